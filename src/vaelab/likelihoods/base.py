"""The likelihood slot: decoder output eta -> p(x|z), folded over the data dimensions.

A likelihood owns its parameter layout: ``param_shape`` is what the decoder must emit per example, and
``element_distribution`` reads the decoder output ``eta: (..., *param_shape)`` into one distribution per
data element. The default layout is ``(P, *data_shape)``: ``params_per_element`` maps stacked in front of
the data dimensions (what a conv decoder emits as channels). ``log_prob(p_x, x, mask)`` of a
distribution returned here has the batch shape ``(...)`` and, with an observation mask, counts only the
observed entries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn
from torch.distributions import Distribution, Independent
from torch.distributions.utils import _sum_rightmost

from vaelab.errors import UserError


class MaskableIndependent(Independent):
    """``Independent`` over the data dimensions with a log-density restricted to observed entries.

    ``masked_log_prob(x, mask) = sum_{d observed} log p(x_d)``: the log-density of the observed entries
    alone, which is exact because the elements are independent given z (the masked ELBO of Nazabal et al.
    2020, eq. 3, and of Mattei & Frellsen 2019, eq. 4). With an all-true mask it equals ``log_prob``
    bit for bit: the same elementwise values are summed in the same order.
    """

    def masked_log_prob(self, value: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        log_p = self.base_dist.log_prob(value)  # (..., *data_shape)
        if mask is not None:
            log_p = torch.where(mask, log_p, 0.0)
        return _sum_rightmost(log_p, self.reinterpreted_batch_ndims)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self.masked_log_prob(value, None)


class Likelihood(nn.Module, ABC):
    name: str
    params_per_element: int
    independent: type[MaskableIndependent] = MaskableIndependent  # a subclass may compute log_prob faster

    def __init__(self, data_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)

    @property
    def param_shape(self) -> tuple[int, ...]:
        """The decoder output for one example."""
        return (self.params_per_element, *self.data_shape)

    def forward(self, eta: torch.Tensor) -> Distribution:
        return self.independent(self.element_distribution(eta), len(self.data_shape), validate_args=False)

    @abstractmethod
    def element_distribution(self, eta: torch.Tensor) -> Distribution:
        """One distribution per data element, batch shape ``(..., *data_shape)``, from ``eta: (..., *param_shape)``."""

    @abstractmethod
    def support_problem(self, x: torch.Tensor) -> str | None:
        """Why ``x`` (model-space values) lies outside the support, or None when it does not."""

    def check_support(self, x: torch.Tensor) -> None:
        problem = self.support_problem(x)
        if problem is not None:
            raise UserError(f"data do not fit the {self.name} likelihood: {problem}")

    def log_prob(self, p_x: Distribution, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``log p(x|z)`` summed over the data dimensions, only over the entries of ``mask`` when given."""
        if isinstance(p_x, MaskableIndependent) or hasattr(p_x, "masked_log_prob"):  # a table's ColumnsDistribution
            return p_x.masked_log_prob(x, mask)
        if mask is not None:
            raise UserError(f"the {self.name} likelihood cannot score data with unobserved entries")
        return p_x.log_prob(x)

    def split(self, eta: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The default layout read as P tensors ``(..., *data_shape)``, one per parameter."""
        return eta.unbind(dim=-len(self.data_shape) - 1)

    def params_last(self, eta: torch.Tensor) -> torch.Tensor:
        """The default layout with the parameters moved behind the data dimensions, ``(..., *data_shape, P)``."""
        return eta.movedim(-len(self.data_shape) - 1, -1)


def is_on_grid(x: torch.Tensor, levels: int) -> bool:
    """True when every value is k / (levels - 1) for an integer k in [0, levels - 1]."""
    scaled = x * (levels - 1)
    return bool(((scaled - scaled.round()).abs() < 1e-4).all() and (x >= 0).all() and (x <= 1).all())
