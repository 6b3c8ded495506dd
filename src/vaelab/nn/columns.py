"""A mixed table's model-space row -> the network input: categories one-hot, everything else one number."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.data.schema import Feature


def encoded_width(features: Sequence[Feature]) -> int:
    """The width of :class:`ColumnEncoding`'s output for ``features``."""
    return sum(len(f.categories or ()) if f.kind == "categorical" else 1 for f in features)


class ColumnEncoding(nn.Module):
    """``(..., D)`` model-space rows (:mod:`vaelab.data.table_columns`) -> ``(..., encoded_width)``.

    Categorical columns become one-hot vectors (a category index is not a number to interpolate); counts
    ``log1p(count)`` (so a large count cannot swamp the first layer); ordinal levels ``k / (levels - 1)``;
    continuous (already standardised) and binary values pass as they are.
    """

    def __init__(self, features: Sequence[Feature]) -> None:
        super().__init__()
        self.kinds = [f.kind for f in features]
        self.sizes = [len(f.categories or ()) for f in features]
        self.levels = [f.levels or 2 for f in features]
        self.width = encoded_width(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        for j, kind in enumerate(self.kinds):
            value = x[..., j]
            if kind == "categorical":
                index = value.round().long().clamp(0, self.sizes[j] - 1)
                parts.append(F.one_hot(index, self.sizes[j]).to(x.dtype))
            elif kind == "count":
                parts.append(torch.log1p(value.clamp_min(0)).unsqueeze(-1))
            elif kind == "ordinal":
                parts.append((value / (self.levels[j] - 1)).unsqueeze(-1))
            else:
                parts.append(value.unsqueeze(-1))
        return torch.cat(parts, dim=-1)
