"""The likelihood slot: decoder output eta -> p(x|z), folded over the data dimensions with ``Independent``.

A decoder produces ``params_per_element`` numbers for each data element, laid out as
``eta: (..., P, *data_shape)``; ``log_prob(x)`` of the returned distribution has the batch shape ``(...)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn
from torch.distributions import Distribution, Independent

from vaelab.errors import UserError


class Likelihood(nn.Module, ABC):
    name: str
    params_per_element: int
    independent: type[Independent] = Independent  # folds the data dims; a subclass may compute log_prob faster

    def __init__(self, data_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)

    def forward(self, eta: torch.Tensor) -> Distribution:
        params = eta.unbind(dim=-len(self.data_shape) - 1)
        return self.independent(self.element_distribution(*params), len(self.data_shape), validate_args=False)

    @abstractmethod
    def element_distribution(self, *params: torch.Tensor) -> Distribution:
        """One distribution per data element from the P parameter tensors, each ``(..., *data_shape)``."""

    @abstractmethod
    def support_problem(self, x: torch.Tensor) -> str | None:
        """Why ``x`` (model-space values) lies outside the support, or None when it does not."""

    def check_support(self, x: torch.Tensor) -> None:
        problem = self.support_problem(x)
        if problem is not None:
            raise UserError(f"data do not fit the {self.name} likelihood: {problem}")


def is_on_grid(x: torch.Tensor, levels: int) -> bool:
    """True when every value is k / (levels - 1) for an integer k in [0, levels - 1]."""
    scaled = x * (levels - 1)
    return bool(((scaled - scaled.round()).abs() < 1e-4).all() and (x >= 0).all() and (x <= 1).all())
