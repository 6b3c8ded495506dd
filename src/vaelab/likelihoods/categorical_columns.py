"""Categorical table columns, each with its own categories, scored together."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.distributions import IndexCategorical, padded_logits, ragged_index
from vaelab.likelihoods.base import Likelihood


class CategoricalColumnsLikelihood(Likelihood):
    """C categorical columns, column c with ``sizes[c]`` categories; the value is the category's index.

    Layout: one flat vector of ``sum(sizes)`` logits per example (column 0's first), read as padded
    ``(..., C, K_max)`` logits so that every column is scored in one pass.
    """

    name = "categorical-columns"
    index: torch.Tensor  # (C, K_max) positions into the flat logits (see ragged_index)

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__((len(sizes),))
        if not sizes or min(sizes) < 1:
            raise ValueError("every categorical column needs at least one category")
        self.sizes = tuple(int(k) for k in sizes)
        self.register_buffer("index", ragged_index(self.sizes), persistent=False)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (sum(self.sizes),)

    def element_distribution(self, eta: torch.Tensor) -> IndexCategorical:
        return IndexCategorical(logits=padded_logits(eta, self.index), validate_args=False)  # (..., C, K_max)

    def support_problem(self, x: torch.Tensor) -> str | None:
        sizes = torch.tensor(self.sizes, device=x.device)
        if bool(((x < 0) | (x >= sizes) | (x != x.round())).any()):
            return "a categorical column holds a value that is not one of its category indices"
        return None
