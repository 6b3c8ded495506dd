"""The standard normal prior p(z) = N(0, I)."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal


class StandardNormalPrior(nn.Module):
    """A prior is a module whose ``forward()`` returns p(z) with event shape ``(latent_dim,)``; learnable
    priors (mixtures, VampPrior) fill the same slot."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("loc", torch.zeros(latent_dim), persistent=False)
        self.register_buffer("scale", torch.ones(latent_dim), persistent=False)

    loc: torch.Tensor
    scale: torch.Tensor

    def forward(self) -> Distribution:
        return Independent(Normal(self.loc, self.scale, validate_args=False), 1)
