"""Categorical distributions over class indices stored as floats, with a different number of classes per element.

Table columns hold a category as its index ``k`` in model space (a float tensor, like every other column);
these classes read it back as an integer. Elements with fewer classes than the widest pad their logits with
``-inf``, so one ``(..., C, K_max)`` tensor serves every column at once.
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


def padded_positions(sizes: Sequence[int]) -> torch.Tensor:
    """``(sum(sizes),)`` where each of C columns' logits, laid side by side (column 0's first), go in the
    flattened ``(C, K_max)`` padded layout: logit k of column c at ``c * K_max + k``."""
    widest = max(sizes)
    return torch.cat([c * widest + torch.arange(size) for c, size in enumerate(sizes)])


def padded_logits(flat: torch.Tensor, positions: torch.Tensor, columns: int, widest: int) -> torch.Tensor:
    """Flat logits ``(..., sum K_c)`` -> ``(..., C, K_max)`` with ``-inf`` past each column's classes.
    ``positions`` from :func:`padded_positions`; one ``index_copy``, whose backward is one ``index_select``."""
    padded = flat.new_full((*flat.shape[:-1], columns * widest), float("-inf"))
    return padded.index_copy(-1, positions, flat).unflatten(-1, (columns, widest))
