"""Categorical table columns as a condition that any of them can fill at sampling time.

One conditional VAE (Sohn et al. 2015) serves every condition on the categorical columns: the condition
is the row's categories with each column either given or hidden. Training shows random patterns — half the
rows with nothing given (the unconditional model), the other half with each column given with probability
one half, by default; ``TabularVAE``'s training-by-sampling gives each row's drawn column in 9 rows of 10 —
so after training ``sample(conditions={"income": ">50K"})`` decodes from p(x | z, income)
directly, for any column, without rejection sampling and without naming the column at fit time. A
column given in the condition is still scored by the likelihood; the decoder learns to reproduce it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vaelab.data.schema import Feature
from vaelab.nn.columns import one_hot_positions

SHOW_NONE = 0.5  # share of training rows conditioned on nothing (default)
SHOW_COLUMN = 0.5  # in the other rows, the chance that each column is given (default)


class ColumnsCondition(nn.Module):
    """``y: (B, C)`` category indices of C categorical columns, NaN where not given -> features ``(B, dim)``:
    for each column its one-hot category (zeros when hidden), then one 1/0 "given" flag per column.
    :meth:`draw` hides given entries at random as the module docstring says; the VAE applies it once per
    training batch, so that encoder, prior and decoder see the same condition."""

    starts: torch.Tensor  # (C,) where each column's one-hot block starts
    top: torch.Tensor  # (C,) each column's last category index

    def __init__(
        self, features: Sequence[Feature], show_none: float = SHOW_NONE, show_column: float = SHOW_COLUMN
    ) -> None:
        super().__init__()
        self.show_none, self.show_column = show_none, show_column
        sizes = [len(f.categories or ()) for f in features]
        self.width = sum(sizes)
        self.dim = self.width + len(sizes)
        self.register_buffer("starts", one_hot_positions(sizes), persistent=False)
        self.register_buffer("top", torch.tensor(sizes, dtype=torch.long) - 1, persistent=False)

    def draw(self, y: torch.Tensor) -> torch.Tensor:
        """``y`` with entries hidden (set to NaN) at random: every entry of a ``show_none`` share of the rows,
        and in the other rows each entry with probability ``1 - show_column``."""
        y = y.float()
        rows = torch.rand(y.shape[0], 1, device=y.device) >= self.show_none
        shown = rows & (torch.rand(y.shape, device=y.device) < self.show_column)
        return torch.where(shown, y, float("nan"))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y = y.float()
        given = ~torch.isnan(y)  # (B, C)
        index = torch.minimum(torch.where(given, y, 0.0).round().long().clamp_min(0), self.top) + self.starts
        one_hot = y.new_zeros(y.shape[0], self.width).scatter_(-1, index, given.float())  # hidden: stays 0
        return torch.cat([one_hot, given.float()], dim=-1)
