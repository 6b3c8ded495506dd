"""Fully connected network: flattens the trailing ``in_shape`` dims and reshapes its output to ``out_shape``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """``(..., *in_shape) -> (..., *out_shape)`` through hidden layers with an activation between them."""

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden_dims: Sequence[int],
        out_shape: Sequence[int],
        activation: type[nn.Module] = nn.ReLU,
        final_activation: bool = False,
    ) -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        dims = [math.prod(self.in_shape), *hidden_dims, math.prod(self.out_shape)]
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(itertools.pairwise(dims)):
            layers.append(nn.Linear(d_in, d_out))
            if i < len(dims) - 2 or final_activation:
                layers.append(activation())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[: x.dim() - len(self.in_shape)]
        h = self.net(x.reshape(*batch, -1))
        return h.reshape(*batch, *self.out_shape)
