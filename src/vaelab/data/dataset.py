"""The in-memory dataset every loader returns, and the map from stored values to model space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ArrayDataset:
    """A dataset held as arrays.

    ``x`` keeps the values as stored: discrete data (``levels`` set) as small integers (uint8 when
    ``levels <= 256``), where a stored value ``k`` means ``k / (levels - 1)`` in model space; continuous
    data as float32. Images have shape ``(N, C, H, W)``, tables and sequences ``(N, D)``.
    ``y`` holds class labels ``(N,)`` int64 or condition vectors ``(N, K)`` float32, or is None.
    """

    x: np.ndarray
    y: np.ndarray | None
    levels: int | None
    name: str
    num_classes: int | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    def subset(self, index: np.ndarray) -> ArrayDataset:
        y = None if self.y is None else self.y[index]
        return ArrayDataset(self.x[index], y, self.levels, self.name, self.num_classes)


def to_model_space(x: torch.Tensor, levels: int | None) -> torch.Tensor:
    """Stored values -> float32 model-space values (discrete data scaled onto [0, 1])."""
    if levels is None:
        return x.float()
    return x.float() / (levels - 1)
