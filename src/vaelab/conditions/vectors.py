"""Condition vectors as a condition: used as given."""

from __future__ import annotations

import torch
from torch import nn

from vaelab.errors import UserError


class VectorCondition(nn.Module):
    """Float vectors ``(B, dim)`` -> the same values as float32 features."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.dim() != 2 or y.shape[1] != self.dim:
            raise UserError(f"condition vectors must have shape (N, {self.dim}); got {tuple(y.shape)}")
        return y.float()
