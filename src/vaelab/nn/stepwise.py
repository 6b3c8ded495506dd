"""One linear map applied at every step of a sequence of feature blocks."""

from __future__ import annotations

import torch
from torch import nn


class StepwiseLinear(nn.Module):
    """``(..., T * F)`` -> ``(..., groups * T * K)``: the same ``Linear(F, groups * K)`` at each of T steps (its
    weights shared across steps), the outputs arranged as ``groups`` blocks of ``T * K``, each step-major.

    A head that reads ``groups`` parameters of every latent (a Gaussian's location and scale: ``groups=2``)
    from its own step's features, laid out as the dense head's ``(loc, scale)`` halves of a flat latent."""

    def __init__(self, in_per_step: int, out_per_step: int, steps: int, groups: int = 1) -> None:
        super().__init__()
        self.linear = nn.Linear(in_per_step, groups * out_per_step)
        self.in_per_step, self.out_per_step, self.steps, self.groups = in_per_step, out_per_step, steps, groups

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        lead = h.shape[:-1]
        out = self.linear(h.reshape(*lead, self.steps, self.in_per_step))  # (..., T, groups * K)
        out = out.reshape(*lead, self.steps, self.groups, self.out_per_step).transpose(-3, -2)  # (..., groups, T, K)
        return out.reshape(*lead, self.groups * self.steps * self.out_per_step)
