"""A latent-space discriminator: codes ``(..., D)`` -> one logit per code ``(...,)``.

Used by objectives that train a classifier alongside the VAE: FactorVAE's total-correlation
discriminator (Kim & Mnih 2018, Appendix: 6 fully connected layers, 1000 units, leaky ReLU 0.2) and the
adversarial autoencoder's prior discriminator (Makhzani et al. 2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vaelab.nn.mlp import MLP

NEGATIVE_SLOPE = 0.2  # Kim & Mnih 2018, Appendix A
PAPER_HIDDEN = (1000, 1000, 1000, 1000, 1000)  # five hidden layers + the output layer = six layers


class LeakyReLU(nn.LeakyReLU):
    """``nn.LeakyReLU`` with the papers' slope 0.2 (``MLP`` builds activations without arguments)."""

    def __init__(self) -> None:
        super().__init__(NEGATIVE_SLOPE)


class Discriminator(nn.Module):
    """An MLP classifier over latent codes; the logit is ``log D(z) / (1 - D(z))`` for the positive class."""

    def __init__(self, latent_dim: int, hidden_dims: Sequence[int] = PAPER_HIDDEN) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = MLP((latent_dim,), hidden_dims, (), activation=LeakyReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (...,)
