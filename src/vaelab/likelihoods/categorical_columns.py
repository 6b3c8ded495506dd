"""Categorical table columns, each with its own categories, scored together."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.distributions import IndexCategorical, padded_logits, padded_positions
from vaelab.likelihoods.base import Likelihood


class CategoricalColumnsLikelihood(Likelihood):
    """C categorical columns, column c with ``sizes[c]`` categories; the value is the category's index.

    Layout: one flat vector of ``sum(sizes)`` logits per example (column 0's first), read as padded
    ``(..., C, K_max)`` logits so that every column is scored in one pass.
    """

    name = "categorical-columns"
    positions: torch.Tensor  # (sum K_c,) where each flat logit goes in the padded layout (see padded_positions)

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__((len(sizes),))
        if not sizes or min(sizes) < 1:
            raise ValueError("every categorical column needs at least one category")
        self.sizes = tuple(int(k) for k in sizes)
        self.register_buffer("positions", padded_positions(self.sizes), persistent=False)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (sum(self.sizes),)

    def element_distribution(self, eta: torch.Tensor) -> IndexCategorical:
        logits = padded_logits(eta, self.positions, len(self.sizes), max(self.sizes))  # (..., C, K_max)
        return IndexCategorical(logits)

    def support_problem(self, x: torch.Tensor) -> str | None:
        sizes = torch.tensor(self.sizes, device=x.device)
        if bool(((x < 0) | (x >= sizes) | (x != x.round())).any()):
            return "a categorical column holds a value that is not one of its category indices"
        return None
