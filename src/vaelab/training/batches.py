"""Minibatches for training: an in-memory fast path and a DataLoader path for data that does not fit.

Both yield ``(x, y)`` with ``x`` already in model space (float32) on the target device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from vaelab.data.dataset import ArrayDataset, to_model_space

Batch = tuple[torch.Tensor, torch.Tensor | None]


class InMemoryBatches:
    """The whole dataset lives as one tensor on the device (uint8 stays uint8); a batch is one
    ``index_select`` of a random permutation: no per-example Python, no collation."""

    def __init__(
        self, data: ArrayDataset, batch_size: int, device: torch.device, generator: torch.Generator | None
    ) -> None:
        self.x = torch.from_numpy(np.ascontiguousarray(data.x)).to(device)
        self.y = None if data.y is None else torch.from_numpy(np.ascontiguousarray(data.y)).to(device)
        self.levels = data.levels
        self.batch_size = batch_size
        self.generator = generator  # None: keep the stored order

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.x)
        order = torch.arange(n) if self.generator is None else torch.randperm(n, generator=self.generator)
        order = order.to(self.x.device)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            y = None if self.y is None else self.y.index_select(0, index)
            yield to_model_space(self.x.index_select(0, index), self.levels), y


class _IndexedArrays(Dataset[tuple[torch.Tensor, torch.Tensor | None]]):
    """A map-style dataset whose item is a whole batch: it receives a list of indices (via a batch sampler)
    and reads them with one fancy-indexing call, so memory-mapped arrays are read batch by batch."""

    def __init__(self, data: ArrayDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor | None]:
        index_array = np.asarray(index)
        x = torch.from_numpy(np.ascontiguousarray(self.data.x[index_array]))
        y = None if self.data.y is None else torch.from_numpy(np.ascontiguousarray(self.data.y[index_array]))
        return x, y


class _Permutation(Sampler[int]):
    """One ``randperm`` per epoch from ``generator``: the same order as ``InMemoryBatches`` (torch's
    RandomSampler draws a second permutation per epoch, so its order drifts from ours)."""

    def __init__(self, n: int, generator: torch.Generator) -> None:
        self.n, self.generator = n, generator

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.n, generator=self.generator).tolist())


def _keep_batch(batch: Any) -> Any:
    """The dataset already returns whole batches: nothing to collate."""
    return batch


class LoaderBatches:
    """A DataLoader over the arrays with worker processes, for data read lazily from disk."""

    def __init__(
        self,
        data: ArrayDataset,
        batch_size: int,
        device: torch.device,
        generator: torch.Generator | None,
        num_workers: int = 0,
    ) -> None:
        sampler = _Permutation(len(data), generator) if generator is not None else SequentialSampler(data)
        self.loader = DataLoader(
            _IndexedArrays(data),
            sampler=BatchSampler(sampler, batch_size, drop_last=False),
            batch_size=None,
            num_workers=num_workers,
            pin_memory=device.type == "cuda",
            collate_fn=_keep_batch,
            # Its own generator for worker seeds, so iterating does not draw from the global RNG that
            # samples z: both batching paths then train identically.
            generator=torch.Generator().manual_seed(0),
        )
        self.levels = data.levels
        self.device = device

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        for x, y in self.loader:
            y = None if y is None else y.to(self.device, non_blocking=True)
            yield to_model_space(x.to(self.device, non_blocking=True), self.levels), y
