"""Diagonal Gaussian posterior head: h -> q(z|x) = N(loc, diag(scale^2))."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Independent, Normal

from vaelab.likelihoods.gaussian import positive_scale


class DiagonalGaussianPosterior(nn.Module):
    """Kingma & Welling 2014, appendix C.2; the scale is ``softplus(raw) + min_scale`` so a runaway
    log-variance cannot produce NaN or a zero scale."""

    def __init__(self, in_features: int, latent_dim: int, min_scale: float = 1e-4) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.min_scale = min_scale
        self.linear = nn.Linear(in_features, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> Independent:
        loc, raw_scale = self.linear(h).chunk(2, dim=-1)
        return Independent(Normal(loc, positive_scale(raw_scale, self.min_scale), validate_args=False), 1)
