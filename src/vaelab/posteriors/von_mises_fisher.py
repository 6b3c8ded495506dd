"""The von Mises-Fisher posterior head: h -> q(z|x) = vMF(μ, κ) on the unit sphere (Davidson et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.distributions.von_mises_fisher import VonMisesFisher
from vaelab.errors import UserError

MAX_SPHERE_DIM = 256  # beyond, I_{m/2-1}(κ) at κ near 1 underflows float64 (vaelab.distributions.bessel)


class VonMisesFisherPosterior(nn.Module):
    """``μ = W_μ h / ||W_μ h||`` and ``κ = softplus(w_κ^T h + b) + 1``, the parameterisation of Davidson et al.
    2018 (the +1 keeps κ away from 0, where the posterior is nearly uniform and the Bessel functions of high order
    underflow). Codes live on S^{latent_dim - 1}."""

    def __init__(self, in_features: int, latent_dim: int) -> None:
        super().__init__()
        if not 2 <= latent_dim <= MAX_SPHERE_DIM:
            raise UserError(
                f"the vmf posterior needs 2 <= model.latent_dim <= {MAX_SPHERE_DIM} (codes on the sphere S^(d-1)), "
                f"not {latent_dim}"
            )
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_features, latent_dim + 1)

    def forward(self, h: torch.Tensor) -> VonMisesFisher:
        direction, raw_concentration = self.linear(h).split([self.latent_dim, 1], dim=-1)
        loc = direction / direction.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        return VonMisesFisher(loc, F.softplus(raw_concentration) + 1)
