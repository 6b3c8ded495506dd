"""Categorical distribution over the grid values ``k / (levels - 1)`` in [0, 1].

Discrete data are stored in model space as ``k / (levels - 1)`` (see ``vaelab.data.dataset``); this
distribution maps a value back to its class index so a categorical likelihood sees the same data as
every other likelihood.
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, constraints

from vaelab.distributions.softmax_categorical import SoftmaxCategorical


class GridCategorical(Distribution):
    """Per-element categorical; ``logits`` has shape ``(*batch, levels)``."""

    arg_constraints = {"logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = False

    def __init__(self, logits: torch.Tensor) -> None:
        self.categorical = SoftmaxCategorical(logits)
        self.levels = logits.shape[-1]
        super().__init__(batch_shape=logits.shape[:-1], validate_args=False)

    @property
    def logits(self) -> torch.Tensor:
        return self.categorical.logits

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        index = torch.round(value * (self.levels - 1)).long()
        logits = self.categorical.logits
        index = index.expand(torch.broadcast_shapes(index.shape, logits.shape[:-1]))
        return logits.expand(*index.shape, self.levels).gather(-1, index.unsqueeze(-1)).squeeze(-1)

    @property
    def mean(self) -> torch.Tensor:
        grid = torch.linspace(0, 1, self.levels, device=self.logits.device)
        return (self.categorical.probs * grid).sum(-1)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return self.categorical.sample(sample_shape).float() / (self.levels - 1)
