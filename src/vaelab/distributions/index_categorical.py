"""Categorical distributions over class indices stored as floats, with a different number of classes per element.

Table columns hold a category as its index ``k`` in model space (a float tensor, like every other column);
these classes read it back as an integer. Ordinal columns use them; a table's categorical columns, each with
its own number of categories, use :mod:`vaelab.distributions.column_categoricals`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.distributions.softmax_categorical import SoftmaxCategorical


class IndexCategorical(SoftmaxCategorical):
    """``Categorical`` whose values are float class indices; ``mean`` is the most probable class (a category
    has no mean: the mode is what ``reconstruct`` and ``sample(mean=True)`` show)."""

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        index = value.round().long().clamp(0, self.logits.shape[-1] - 1)
        index = index.expand(torch.broadcast_shapes(index.shape, self.batch_shape))
        logits = self.logits.expand(*index.shape, self.logits.shape[-1])
        return logits.gather(-1, index.unsqueeze(-1)).squeeze(-1)

    @property
    def mean(self) -> torch.Tensor:
        return self.logits.argmax(-1).to(self.logits.dtype)

    def sample(self, sample_shape: torch.Size | Sequence[int] = ()) -> torch.Tensor:
        return super().sample(torch.Size(sample_shape)).to(self.logits.dtype)
