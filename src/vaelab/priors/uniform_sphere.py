"""The uniform prior on the unit sphere S^{latent_dim - 1}, for codes of the vMF posterior (Davidson et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn

from vaelab.distributions.von_mises_fisher import HypersphericalUniform


class UniformSpherePrior(nn.Module):
    """``p(z) = 1 / area(S^{d-1})`` on the sphere; its KL from a vMF posterior is closed form
    (``vaelab.distributions.von_mises_fisher``). An empty buffer tells the distribution its device and dtype."""

    anchor: torch.Tensor

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("anchor", torch.zeros(0), persistent=False)

    def forward(self) -> HypersphericalUniform:
        return HypersphericalUniform(self.latent_dim, self.anchor.dtype, self.anchor.device)
