"""A Gaussian prior that depends on the condition: p(z|c) = N(mu(c), diag sigma(c)^2)."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal
from torch.nn import functional as F


class ConditionalGaussianPrior(nn.Module):
    """The prior network of a conditional VAE (Sohn et al. 2015, "Learning structured output representation
    using deep conditional generative models", §4: p_theta(z|x) in their notation; Ivanov et al. 2019, VAEAC,
    eq. 3): an MLP of the condition's features gives the prior's location and scale. A condition with nothing
    given (all features 0) gives one learned Gaussian, the unconditional prior. Starts as N(0, I): the last
    layer starts at zero weights, with scale ``softplus(0.5413) = 1``.

    ``forward(c)`` takes the condition's features ``(B, condition_dim)`` and returns p(z|c) with batch
    ``(B,)`` and event ``(latent_dim,)``.
    """

    conditional = True

    def __init__(self, condition_dim: int, latent_dim: int, hidden: int = 64, min_scale: float = 1e-4) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.min_scale = min_scale
        self.hidden = nn.Sequential(nn.Linear(condition_dim, hidden), nn.SiLU())
        self.head = nn.Linear(hidden, 2 * latent_dim)
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias[:latent_dim] = 0.0
            self.head.bias[latent_dim:] = 0.5413

    def forward(self, condition: torch.Tensor) -> Distribution:
        loc, raw_scale = self.head(self.hidden(condition)).chunk(2, dim=-1)
        return Independent(Normal(loc, F.softplus(raw_scale) + self.min_scale, validate_args=False), 1)
