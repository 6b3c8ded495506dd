"""Categorical table columns, each with its own categories, scored together."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.distributions import CategoryLayout, ColumnCategoricals
from vaelab.likelihoods.base import Likelihood


class CategoricalColumnsLikelihood(Likelihood):
    """C categorical columns, column c with ``sizes[c]`` categories; the value is the category's index.

    Layout: one flat vector of ``sum(sizes)`` logits per example (column 0's first), scored without padding
    by :class:`~vaelab.distributions.ColumnCategoricals`.
    """

    name = "categorical-columns"

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__((len(sizes),))
        self.layout = CategoryLayout(sizes)

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.layout.sizes

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (sum(self.sizes),)

    def element_distribution(self, eta: torch.Tensor) -> ColumnCategoricals:
        return ColumnCategoricals(eta, self.layout)

    def support_problem(self, x: torch.Tensor) -> str | None:
        last = self.layout.last.to(x.device)  # (C,) each column's largest category index
        if bool(((x < 0) | (x > last) | (x != x.round())).any()):
            return "a categorical column holds a value that is not one of its category indices"
        return None
