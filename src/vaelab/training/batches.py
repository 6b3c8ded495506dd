"""Minibatches for training: an in-memory fast path and a DataLoader path for data that does not fit.

Both yield a ``Batch`` (``vaelab.data.batch``) in model space on the target device, visit the examples
in the same order for the same generator, and, in a distributed run, give each of the ``world_size``
processes its own slice of every global batch (so the global batch size does not depend on the number of
processes and the processes never see the same example in one epoch).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from vaelab.data.batch import Batch, stored_batch
from vaelab.data.dataset import ArrayDataset


def shard_batches(
    n: int, batch_size: int, generator: torch.Generator | None, rank: int = 0, world_size: int = 1
) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch: a permutation from ``generator`` (stored order when None) cut into global
    batches of ``batch_size``, each split into ``world_size`` near-equal slices of which this rank takes one."""
    order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        yield batch.tensor_split(world_size)[rank] if world_size > 1 else batch


def num_batches(n: int, batch_size: int) -> int:
    return -(-n // batch_size)


class InMemoryBatches:
    """The whole dataset lives as one tensor on the device (uint8 stays uint8); a batch is one
    ``index_select``: no per-example Python, no collation."""

    def __init__(
        self,
        data: ArrayDataset,
        batch_size: int,
        device: torch.device,
        generator: torch.Generator | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.x = torch.from_numpy(np.ascontiguousarray(data.x)).to(device)
        self.y = None if data.y is None else torch.from_numpy(np.ascontiguousarray(data.y)).to(device)
        self.levels = data.levels
        self.batch_size, self.generator, self.rank, self.world_size = batch_size, generator, rank, world_size

    def __len__(self) -> int:
        return num_batches(len(self.x), self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        for index in shard_batches(len(self.x), self.batch_size, self.generator, self.rank, self.world_size):
            index = index.to(self.x.device)
            y = None if self.y is None else self.y.index_select(0, index)
            yield stored_batch(self.x.index_select(0, index), y, self.levels, self.x.device)


class _IndexedArrays(Dataset[tuple[torch.Tensor, torch.Tensor | None]]):
    """A map-style dataset whose item is a whole batch: it receives an index tensor and reads it with one
    fancy-indexing call, so memory-mapped arrays are read from disk batch by batch."""

    def __init__(self, data: ArrayDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        index_array = index.numpy()
        x = torch.from_numpy(np.ascontiguousarray(self.data.x[index_array]))
        y = None if self.data.y is None else torch.from_numpy(np.ascontiguousarray(self.data.y[index_array]))
        return x, y


class _EpochBatches(Sampler[torch.Tensor]):
    """``shard_batches`` as a sampler, re-drawn every epoch."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator | None, rank: int, world_size: int) -> None:
        self.args = (n, batch_size, generator, rank, world_size)

    def __len__(self) -> int:
        return num_batches(self.args[0], self.args[1])

    def __iter__(self) -> Iterator[torch.Tensor]:
        return shard_batches(*self.args)


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
        rank: int = 0,
        world_size: int = 1,
        num_workers: int = 0,
    ) -> None:
        self.loader = DataLoader(
            _IndexedArrays(data),
            sampler=_EpochBatches(len(data), batch_size, generator, rank, world_size),
            batch_size=None,
            num_workers=num_workers,
            pin_memory=device.type == "cuda",
            collate_fn=_keep_batch,
            # Its own generator for worker seeds, so iterating does not draw from the global RNG that
            # samples z: both batching paths then train identically.
            generator=torch.Generator().manual_seed(0),
            persistent_workers=num_workers > 0,
        )
        self.levels = data.levels
        self.device = device

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        for x, y in self.loader:
            yield stored_batch(x, y, self.levels, self.device)
