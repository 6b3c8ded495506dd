"""A masked autoregressive network with a context input (MADE: Germain et al. 2015), for IAF steps.

Output i depends on the inputs that come before i in ``order`` and on the context h only, so the
Jacobian of the outputs with respect to the inputs is strictly triangular in that order.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MaskedLinear(nn.Linear):
    """``y = (W ⊙ M) x + b`` with a fixed 0/1 mask ``M: (out, in)``."""

    mask: torch.Tensor

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.float(), persistent=False)  # rebuilt from the structure on load

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """``(z (..., B, D), h (B, F)) -> outputs (..., B, num_outputs, D)``, one hidden layer of ``hidden`` units.

    Germain et al. 2015, section 4, with degrees: input d has degree ``order[d]`` in 1..D, hidden unit k
    has degree ``m(k) = k mod D`` in 0..D-1 and sees inputs of degree <= m(k); an output of degree j sees
    hidden units of degree < j. Degree-0 units see only the context, so the first output still depends on x.
    """

    def __init__(
        self, latent_dim: int, context_features: int, hidden: int, order: torch.Tensor, num_outputs: int
    ) -> None:
        super().__init__()
        self.num_outputs = num_outputs
        hidden_degree = torch.arange(hidden) % latent_dim  # (H,)
        self.masked_in = MaskedLinear(hidden_degree.unsqueeze(1) >= order.unsqueeze(0))  # (H, D)
        self.context = nn.Linear(context_features, hidden)
        out_mask = order.unsqueeze(1) > hidden_degree.unsqueeze(0)  # (D, H)
        self.masked_out = MaskedLinear(out_mask.repeat(num_outputs, 1))  # (num_outputs * D, H)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.masked_in(z) + self.context(h))  # (..., B, H)
        out = self.masked_out(hidden)  # (..., B, num_outputs * D)
        return out.unflatten(-1, (self.num_outputs, z.shape[-1]))
