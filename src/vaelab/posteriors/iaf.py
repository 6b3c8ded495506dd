"""Inverse autoregressive flow steps (Kingma et al. 2016, "Improved variational inference with IAF")."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.posteriors.flow import FlowPosterior
from vaelab.posteriors.made import MADE

GATE_BIAS = 2.0  # initial bias of s: "sufficiently positive, close to +1 or +2" (Kingma et al. 2016)


class IAFStep(nn.Module):
    """``[m, s] = AutoregressiveNN(z, h)``, ``sigma = sigmoid(s)``, ``f(z) = sigma ⊙ z + (1 - sigma) ⊙ m``
    (the numerically stable LSTM-style update of Kingma et al.'s Algorithm 1), so the Jacobian is
    triangular with ``log |det ∂f/∂z| = sum_i log sigma_i``. ``reverse`` flips the autoregressive order;
    consecutive steps alternate it, as the paper reverses the variables after each step.
    """

    def __init__(self, in_features: int, latent_dim: int, reverse: bool = False) -> None:
        super().__init__()
        order = torch.arange(1, latent_dim + 1)
        self.net = MADE(latent_dim, in_features, in_features, order.flip(0) if reverse else order, num_outputs=2)
        with torch.no_grad():
            self.net.masked_out.bias[latent_dim:].fill_(GATE_BIAS)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m, s = self.net(z, h).unbind(-2)  # (..., B, D) each
        sigma = torch.sigmoid(s)
        return sigma * z + (1 - sigma) * m, F.logsigmoid(s).sum(-1)


class IAFPosterior(FlowPosterior):
    """A diagonal Gaussian followed by ``num_steps`` IAF steps whose autoregressive order alternates."""

    def __init__(self, in_features: int, latent_dim: int, num_steps: int = 4, min_scale: float = 1e-4) -> None:
        steps = [IAFStep(in_features, latent_dim, reverse=k % 2 == 1) for k in range(num_steps)]
        super().__init__(in_features, latent_dim, steps, min_scale)
