"""Categorical likelihood over ``levels`` classes per element (tokens, or 256-way pixels)."""

from __future__ import annotations

import torch

from vaelab.distributions import GridCategorical
from vaelab.likelihoods.base import Likelihood, is_on_grid


class CategoricalLikelihood(Likelihood):
    name = "categorical"

    def __init__(self, data_shape: tuple[int, ...], levels: int) -> None:
        super().__init__(data_shape)
        if levels is None or levels < 2:
            raise ValueError("the categorical likelihood needs discrete data (levels >= 2)")
        self.levels = levels
        self.params_per_element = levels

    def element_distribution(self, eta: torch.Tensor) -> GridCategorical:
        return GridCategorical(self.params_last(eta))  # logits (..., *data_shape, levels)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if not is_on_grid(x, self.levels):
            return f"values are not on the grid of {self.levels} levels; the categorical likelihood needs discrete data"
        return None
