"""Categorical table columns as a condition that any of them can fill at sampling time.

One conditional VAE (Sohn et al. 2015) serves every condition on the categorical columns: the condition
is the row's categories with each column either given or hidden. Training shows random patterns — half the
rows with nothing given (the unconditional model), the other half with each column given with probability
one half — so after training ``sample(conditions={"income": ">50K"})`` decodes from p(x | z, income)
directly, for any column, without rejection sampling and without naming the column at fit time. A
column given in the condition is still scored by the likelihood; the decoder learns to reproduce it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.data.schema import Feature

SHOW_NONE = 0.5  # share of training rows conditioned on nothing
SHOW_COLUMN = 0.5  # in the other rows, the chance that each column is given


class ColumnsCondition(nn.Module):
    """``y: (B, C)`` category indices of C categorical columns, NaN where not given -> features ``(B, dim)``:
    for each column its one-hot category (zeros when hidden) and a 1/0 "given" flag. In training mode the
    given entries are hidden at random as the module docstring says; in evaluation mode ``y`` is used as is."""

    def __init__(self, features: Sequence[Feature]) -> None:
        super().__init__()
        self.sizes = [len(f.categories or ()) for f in features]
        self.dim = sum(self.sizes) + len(self.sizes)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        y = y.float()
        given = ~torch.isnan(y)  # (B, C)
        if self.training:
            rows = torch.rand(y.shape[0], 1, device=y.device) >= SHOW_NONE
            given = given & rows & (torch.rand(y.shape, device=y.device) < SHOW_COLUMN)
        index = torch.where(given, y, 0.0).round().long()
        parts = []
        for c, size in enumerate(self.sizes):
            one_hot = F.one_hot(index[:, c].clamp(0, size - 1), size).float() * given[:, c : c + 1]
            parts.append(one_hot)
        parts.append(given.float())
        return torch.cat(parts, dim=-1)
