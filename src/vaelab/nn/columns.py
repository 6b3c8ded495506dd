"""A mixed table's model-space row -> the network input: categories one-hot, everything else one number."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vaelab.data.schema import Feature


def encoded_width(features: Sequence[Feature]) -> int:
    """The width of :class:`ColumnEncoding`'s output for ``features``."""
    return sum(len(f.categories or ()) if f.kind == "categorical" else 1 for f in features)


def one_hot_positions(sizes: Sequence[int]) -> torch.Tensor:
    """``(C,)`` the first position of each of C one-hot blocks of ``sizes`` laid side by side."""
    return torch.tensor([0, *sizes[:-1]], dtype=torch.long).cumsum(0)


class ColumnEncoding(nn.Module):
    """``(B, D)`` model-space rows (:mod:`vaelab.data.table_columns`) -> ``(B, encoded_width)``.

    Categorical columns become one-hot vectors (a category index is not a number to interpolate); counts
    ``log1p(count)`` (so a large count cannot swamp the first layer); ordinal levels ``k / (levels - 1)``;
    continuous (already standardised) values as they are, or with ``asinh`` as ``asinh(value)`` (the same near
    0, logarithmic in the tails); binary values as they are. The numbers come first, then the one-hot blocks, all
    written by one scatter.

    ``with_mask``: the input is ``(B, 2 D)``, the row and then its observation mask (``MissingInput``); a
    missing category is then no category (an all-zero block), and the mask is appended to the output.
    """

    numeric: torch.Tensor  # (D_numbers,) positions of the columns that enter as one number
    categorical: torch.Tensor  # (C,) positions of the categorical columns
    top: torch.Tensor  # (C,) each categorical column's last category index
    starts: torch.Tensor  # (C,) where each one-hot block starts in the output
    counts: torch.Tensor  # (D_numbers,) bool: count columns (log1p)
    squashed: torch.Tensor  # (D_numbers,) bool: continuous columns read through asinh
    divisor: torch.Tensor  # (D_numbers,) levels - 1 for ordinal columns, else 1

    def __init__(self, features: Sequence[Feature], with_mask: bool = False, asinh: bool = False) -> None:
        super().__init__()
        self.with_mask = with_mask
        kinds = [f.kind for f in features]
        categorical = [j for j, kind in enumerate(kinds) if kind == "categorical"]
        numeric = [j for j, kind in enumerate(kinds) if kind != "categorical"]
        sizes = [len(features[j].categories or ()) for j in categorical]
        self.width = encoded_width(features) + (len(features) if with_mask else 0)
        self.register_buffer("numeric", torch.tensor(numeric, dtype=torch.long), persistent=False)
        self.register_buffer("categorical", torch.tensor(categorical, dtype=torch.long), persistent=False)
        self.register_buffer("top", torch.tensor(sizes, dtype=torch.long) - 1, persistent=False)
        starts = one_hot_positions(sizes) + len(numeric) if sizes else torch.zeros(0, dtype=torch.long)
        self.register_buffer("starts", starts, persistent=False)
        self.register_buffer("counts", torch.tensor([kinds[j] == "count" for j in numeric]), persistent=False)
        squashed = [asinh and kinds[j] == "continuous" for j in numeric]
        self.register_buffer("squashed", torch.tensor(squashed, dtype=torch.bool), persistent=False)
        self.squashes = any(squashed)  # without asinh the forward pass skips it (no host sync to find out)
        divisor = [float((features[j].levels or 2) - 1) if kinds[j] == "ordinal" else 1.0 for j in numeric]
        self.register_buffer("divisor", torch.tensor(divisor), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        observed = None
        if self.with_mask:
            x, observed = x.chunk(2, dim=-1)  # (B, D) each
        out = x.new_zeros(*x.shape[:-1], self.width)
        values = x[..., self.numeric]
        values = torch.where(self.counts, torch.log1p(values.clamp_min(0)), values) / self.divisor
        if self.squashes:
            values = torch.where(self.squashed, torch.asinh(values), values)
        out[..., : values.shape[-1]] = values
        if self.categorical.numel():
            index = torch.minimum(x[..., self.categorical].round().long().clamp_min(0), self.top) + self.starts
            hot = torch.ones_like(index, dtype=out.dtype) if observed is None else observed[..., self.categorical]
            out.scatter_(-1, index, hot)
        if observed is not None:
            out[..., -observed.shape[-1] :] = observed
        return out
