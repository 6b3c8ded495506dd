"""Discretised logistic mixture likelihood for data on a grid of ``levels`` values (8-bit images: 256)."""

from __future__ import annotations

import torch

from vaelab.distributions import DiscretizedLogisticMixture
from vaelab.likelihoods.base import Likelihood, is_on_grid


class DiscretizedLogisticLikelihood(Likelihood):
    """Decoder outputs 3 x ``num_components`` maps per element: mixture logits, locations, log-scales."""

    name = "logistic"

    def __init__(self, data_shape: tuple[int, ...], levels: int, num_components: int = 1) -> None:
        super().__init__(data_shape)
        if levels is None or levels < 2:
            raise ValueError("the logistic likelihood needs discrete data (levels >= 2)")
        self.levels = levels
        self.num_components = num_components
        self.params_per_element = 3 * num_components

    def element_distribution(self, eta: torch.Tensor) -> DiscretizedLogisticMixture:
        m = self.num_components
        stacked = self.params_last(eta)  # (..., *data_shape, 3M)
        logit_weights, loc, log_scale = stacked[..., :m], stacked[..., m : 2 * m], stacked[..., 2 * m :]
        return DiscretizedLogisticMixture(logit_weights, torch.tanh(loc), log_scale, self.levels)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if not is_on_grid(x, self.levels):
            return f"values are not on the grid of {self.levels} levels; use --likelihood gaussian for continuous data"
        return None
