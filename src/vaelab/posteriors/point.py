"""A point posterior: h -> the code itself, for deterministic autoencoders (Kipf & Welling 2016's GAE).

``PointMass`` stands for q(z|x) = δ(z - loc): ``rsample`` returns ``loc`` (gradients pass straight through),
``mean`` is ``loc``. A point mass has no density, so ``log_prob`` is 0 at its point: the Monte Carlo KL of
``vaelab.distributions.kl_estimate`` then is ``-log p(z)``, and the ``elbo`` term a run reports is
``log p(x, z)`` at the code, not a bound. Objectives for point posteriors weigh the KL by 0 (``beta = 0``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, constraints


class PointMass(Distribution):
    """δ(z - loc) over codes, batch ``loc.shape[:-1]``, event ``(D,)``."""

    arg_constraints = {"loc": constraints.real_vector}
    has_rsample = True

    def __init__(self, loc: torch.Tensor) -> None:
        self.loc = loc
        super().__init__(loc.shape[:-1], loc.shape[-1:], validate_args=False)

    @property
    def mean(self) -> torch.Tensor:
        return self.loc

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return self.loc.expand(*sample_shape, *self.loc.shape)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return torch.zeros(value.shape[:-1], dtype=value.dtype, device=value.device)


class PointPosterior(nn.Module):
    """``h -> δ(z - W h - b)``: the code is a linear map of the encoder's features."""

    def __init__(self, in_features: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_features, latent_dim)

    def forward(self, h: torch.Tensor) -> PointMass:
        return PointMass(self.linear(h))
