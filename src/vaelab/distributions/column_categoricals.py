"""Categorical table columns with a different number of categories each, scored from their flat logits.

A table's C categorical columns arrive from the decoder as one flat vector of ``sum_c K_c`` logits per row
(column 0's first). Padding them to ``(C, K_max)`` wastes most of the work when one column has many more
categories than the rest (Adult: 104 logits padded to 9 x 42 = 378). :class:`ColumnCategoricals` scores the
flat logits directly: each column's log-normaliser ``log sum_k exp(l_ck)`` is a segment log-sum-exp over its
own logits (shifted by the column's maximum, which is held constant: the log-sum-exp does not depend on it),
and ``log p(x_c = k) = l_ck - log sum_j exp(l_cj)``. Sampling and the mode, off the training path, use the
padded layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.distributions import Categorical, Distribution, constraints


def padded_positions(sizes: Sequence[int]) -> torch.Tensor:
    """``(sum(sizes),)`` where each of C columns' logits, laid side by side (column 0's first), go in the
    flattened ``(C, K_max)`` padded layout: logit k of column c at ``c * K_max + k``."""
    widest = max(sizes)
    return torch.cat([c * widest + torch.arange(size) for c, size in enumerate(sizes)])


def padded_logits(flat: torch.Tensor, positions: torch.Tensor, columns: int, widest: int) -> torch.Tensor:
    """Flat logits ``(..., sum K_c)`` -> ``(..., C, K_max)`` with ``-inf`` past each column's classes.
    ``positions`` from :func:`padded_positions`; one ``index_copy``, whose backward is one ``index_select``."""
    padded = flat.new_full((*flat.shape[:-1], columns * widest), float("-inf"))
    return padded.index_copy(-1, positions, flat).unflatten(-1, (columns, widest))


class CategoryLayout(torch.nn.Module):
    """Where each of C columns' logits lie in the flat vector: buffers that move with the model's device."""

    column_of: torch.Tensor  # (sum K_c,) the column each flat logit belongs to
    starts: torch.Tensor  # (C,) the flat position of each column's first logit
    last: torch.Tensor  # (C,) each column's largest category index, K_c - 1
    positions: torch.Tensor  # (sum K_c,) each flat logit's place in the padded (C, K_max) layout

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        if not sizes or min(sizes) < 1:
            raise ValueError("every categorical column needs at least one category")
        self.sizes = tuple(int(k) for k in sizes)
        sizes_tensor = torch.tensor(self.sizes)
        self.register_buffer("column_of", torch.repeat_interleave(torch.arange(len(self.sizes)), sizes_tensor), False)
        self.register_buffer("starts", torch.cumsum(sizes_tensor, 0) - sizes_tensor, False)
        self.register_buffer("last", sizes_tensor - 1, False)
        self.register_buffer("positions", padded_positions(self.sizes), False)


class ColumnCategoricals(Distribution):
    """C independent categoricals, batch shape ``(..., C)``, from flat logits ``(..., sum K_c)``; a value is a
    category index stored as a float, as every table column is in model space. ``mean`` is each column's most
    probable category (a category has no mean)."""

    arg_constraints = {"logits": constraints.real_vector}
    has_rsample = False

    def __init__(self, logits: torch.Tensor, layout: CategoryLayout) -> None:
        if logits.shape[-1] != layout.column_of.shape[0]:
            raise ValueError(f"expected {layout.column_of.shape[0]} logits per row, got {logits.shape[-1]}")
        self.logits, self.layout = logits, layout
        columns = len(layout.sizes)
        super().__init__(batch_shape=torch.Size((*logits.shape[:-1], columns)), validate_args=False)

    def column_max(self) -> torch.Tensor:
        """``max_k l_ck`` of every column, ``(..., C)``, outside the autograd graph."""
        column_max = self.logits.new_full(self.batch_shape, float("-inf"))
        index = self.layout.column_of.expand(self.logits.shape)
        return column_max.scatter_reduce(-1, index, self.logits.detach(), "amax")

    def log_normalisers(self) -> torch.Tensor:
        """``log sum_k exp(l_ck)`` of every column, ``(..., C)``."""
        column_of = self.layout.column_of
        column_max = self.column_max()
        shifted = (self.logits - column_max.index_select(-1, column_of)).exp()  # (..., sum K_c), each <= 1
        return self.logits.new_zeros(self.batch_shape).index_add(-1, column_of, shifted).log() + column_max

    def tempered(self, temperature: float) -> ColumnCategoricals:
        """Every column at sampling ``temperature`` (:mod:`vaelab.distributions.tempered`): logits ``l / τ``,
        or at 0 log-weight 0 for each column's most probable categories and ``-inf`` for the rest."""
        if temperature > 0:
            return ColumnCategoricals(self.logits / temperature, self.layout)
        top = self.column_max().index_select(-1, self.layout.column_of)  # (..., sum K_c)
        return ColumnCategoricals(torch.where(self.logits == top, 0.0, float("-inf")), self.layout)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``log p(x_c)`` of every column, ``(..., C)``; ``value`` broadcasts against the batch shape."""
        index = torch.minimum(value.round().long().clamp_min(0), self.layout.last) + self.layout.starts
        index = index.expand(torch.broadcast_shapes(index.shape, self.batch_shape))
        chosen = self.logits.expand(*index.shape[:-1], self.logits.shape[-1]).gather(-1, index)
        return chosen - self.log_normalisers()

    def _padded(self) -> torch.Tensor:
        """``(..., C, K_max)`` logits, ``-inf`` past each column's categories."""
        sizes = self.layout.sizes
        return padded_logits(self.logits, self.layout.positions, len(sizes), max(sizes))

    @property
    def mean(self) -> torch.Tensor:
        return self._padded().argmax(-1).to(self.logits.dtype)

    def sample(self, sample_shape: torch.Size | Sequence[int] = ()) -> torch.Tensor:
        with torch.no_grad():
            draws = Categorical(logits=self._padded(), validate_args=False).sample(torch.Size(sample_shape))
        return draws.to(self.logits.dtype)
