"""A learnable mixture-of-Gaussians prior (the MoG prior Tomczak & Welling 2018 compare with)."""

from __future__ import annotations

import math

import torch
from torch import nn

from vaelab.distributions import DiagonalGaussianMixture
from vaelab.likelihoods.gaussian import positive_scale


class MixtureOfGaussiansPrior(nn.Module):
    """``p(z) = sum_k softmax(logits)_k N(z; loc_k, diag(scale_k^2))`` with every parameter learned.

    The means start as draws from N(0, I) (so the components start apart) and the scales at 1;
    ``scale = softplus(raw) + min_scale`` keeps them positive. Its KL to a Gaussian posterior has no
    closed form, so objectives estimate it by Monte Carlo.
    """

    def __init__(self, latent_dim: int, num_components: int, min_scale: float = 1e-4) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.min_scale = min_scale
        self.logits = nn.Parameter(torch.zeros(num_components))
        self.loc = nn.Parameter(torch.randn(num_components, latent_dim))
        self.raw_scale = nn.Parameter(torch.full((num_components, latent_dim), math.log(math.expm1(1.0))))

    def forward(self) -> DiagonalGaussianMixture:
        return DiagonalGaussianMixture(self.logits, self.loc, positive_scale(self.raw_scale, self.min_scale))
