"""Diagonal Gaussian posterior head: h -> q(z|x) = N(loc, diag(scale^2))."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Independent, Normal

from vaelab.likelihoods.gaussian import positive_scale
from vaelab.nn.stepwise import StepwiseLinear


class DiagonalGaussianPosterior(nn.Module):
    """Kingma & Welling 2014, appendix C.2; the scale is ``softplus(raw) + min_scale`` so a runaway
    log-variance cannot produce NaN or a zero scale.

    With ``steps`` > 1 the features are that many blocks, one per step of a sequence, and so is z: each step's
    latents are read from its own step's features by one linear map shared across steps (one latent per
    step, as in OmniAnomaly, Su et al. 2019)."""

    def __init__(self, in_features: int, latent_dim: int, min_scale: float = 1e-4, steps: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.min_scale = min_scale
        self.linear: nn.Module = (
            nn.Linear(in_features, 2 * latent_dim)
            if steps == 1
            else StepwiseLinear(in_features // steps, latent_dim // steps, steps, groups=2)
        )

    def forward(self, h: torch.Tensor) -> Independent:
        loc, raw_scale = self.linear(h).chunk(2, dim=-1)
        return Independent(Normal(loc, positive_scale(raw_scale, self.min_scale), validate_args=False), 1)
