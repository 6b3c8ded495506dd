"""Categorical distributions over class indices stored as floats, with a different number of classes per element.

Table columns hold a category as its index ``k`` in model space (a float tensor, like every other column);
these classes read it back as an integer. Elements with fewer classes than the widest pad their logits with
``-inf``, so one ``(..., C, K_max)`` tensor serves every column at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.distributions import Categorical


class IndexCategorical(Categorical):
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


def ragged_index(sizes: Sequence[int]) -> torch.Tensor:
    """``(C, K_max)`` positions into a flat vector of ``sum(sizes)`` logits followed by one ``-inf`` slot:
    row ``c`` lists column c's logits, then points at the ``-inf`` slot."""
    total, widest = sum(sizes), max(sizes)
    index = torch.full((len(sizes), widest), total, dtype=torch.long)
    start = 0
    for c, size in enumerate(sizes):
        index[c, :size] = torch.arange(start, start + size)
        start += size
    return index


def padded_logits(flat: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Flat logits ``(..., sum K_c)`` -> ``(..., C, K_max)`` with ``-inf`` past each column's classes."""
    pad = flat.new_full((*flat.shape[:-1], 1), float("-inf"))
    return torch.cat([flat, pad], dim=-1)[..., index]
