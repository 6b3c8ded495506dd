"""Class labels as a condition: one-hot vectors."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.errors import UserError


class ClassCondition(nn.Module):
    """Integer labels ``(B,)`` in ``[0, num_classes)`` -> one-hot features ``(B, num_classes)``."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.dim = num_classes

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.dtype.is_floating_point or bool(((y < 0) | (y >= self.num_classes)).any()):
            raise UserError(f"labels must be integers in [0, {self.num_classes - 1}]")
        return F.one_hot(y.long(), self.num_classes).float()
