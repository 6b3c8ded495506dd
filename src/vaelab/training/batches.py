"""Minibatches for training: an in-memory fast path and a DataLoader path for data that does not fit.

Both yield a ``Batch`` (``vaelab.data.batch``) in model space on the target device, visit the examples
in the same order for the same generator, and, in a distributed run, give each of the ``world_size``
processes its own slice of every global batch (so the global batch size does not depend on the number of
processes and the processes never see the same example in one epoch).

A batch of token sequences is trimmed to its longest row (``Batch.trimmed``). With ``buckets`` (the setting
``train.length_buckets``) rows of similar length share a batch, so little of it is padding: the epoch's
permutation is cut into chunks of :data:`BUCKET_BATCHES` batches, each chunk sorted by length and cut into
batches, and the batches are shuffled, as in Sutskever et al. 2014 and torchtext's ``BucketIterator``. It is
on by default. An epoch holds at least :data:`MIN_CHUNKS` chunks (shorter ones on small data), so a chunk is
a fresh random part of the data every epoch and the batches change between epochs; an epoch too short for
chunks of two batches is not bucketed.

On semi-supervised data (a few labelled rows among many unlabelled ones) a model that learns from the labels
can get ``labelled_per_batch`` labelled rows added to every batch (:class:`LabelledRows`), so each step sees some
however few there are. It is off by default: an epoch's permutation visits each labelled row once, at its share of
the data, which is what the M2 objective's weights assume (Kingma et al. 2014, eq. 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from vaelab.data.batch import Batch, stored_batch
from vaelab.data.dataset import ArrayDataset, holds_token_ids
from vaelab.data.semi_supervised import is_labelled, is_semi_supervised
from vaelab.data.vocabulary import sequence_lengths

BUCKET_BATCHES = 64
"""Batches per chunk of the permutation that is sorted by length: rows of similar length share a batch
while a chunk still mixes a wide sample of the data."""

MIN_CHUNKS = 4
"""Chunks per epoch at the least: with one chunk, sorting by length would give nearly the same batches every
epoch, which made a 96-molecule model learn worse (bench/molecules/results-speed.md)."""


class LabelledRows:
    """``per_batch`` indices of labelled rows for each batch: the rows ``index`` in a permutation drawn from
    ``generator``, taken in turn and drawn again when used up, so every labelled row is seen equally often."""

    def __init__(self, index: torch.Tensor, per_batch: int, generator: torch.Generator) -> None:
        self.index, self.per_batch, self.generator = index, per_batch, generator
        self.queue = index[:0]

    def draw(self) -> torch.Tensor:
        while len(self.queue) < self.per_batch:
            self.queue = torch.cat([self.queue, self.index[torch.randperm(len(self.index), generator=self.generator)]])
        taken, self.queue = self.queue[: self.per_batch], self.queue[self.per_batch :]
        return taken


def labelled_rows(data: ArrayDataset, per_batch: int, generator: torch.Generator | None) -> LabelledRows | None:
    """The labelled rows to add to every training batch of semi-supervised ``data``; None for other data, without
    a generator (evaluation) or with ``per_batch`` 0."""
    if per_batch <= 0 or generator is None or not is_semi_supervised(data.y):
        return None
    assert data.y is not None
    return LabelledRows(torch.from_numpy(np.flatnonzero(is_labelled(data.y))), per_batch, generator)


def shard_batches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None,
    rank: int = 0,
    world_size: int = 1,
    lengths: torch.Tensor | None = None,
    labelled: LabelledRows | None = None,
) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch: a permutation from ``generator`` (stored order when None) cut into global
    batches of ``batch_size``, each split into ``world_size`` near-equal slices of which this rank takes one.
    With ``lengths: (n,)`` and a generator the batches hold rows of similar length (module docstring); with
    ``labelled``, each global batch also holds its draw of labelled rows, shuffled in."""
    order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
    chunk_batches = min(BUCKET_BATCHES, num_batches(n, batch_size) // MIN_CHUNKS)
    if lengths is None or generator is None or chunk_batches < 2:
        batches = list(order.split(batch_size))
    else:
        by_length = [
            chunk[torch.argsort(lengths[chunk], stable=True)] for chunk in order.split(chunk_batches * batch_size)
        ]
        batches = [batch for chunk in by_length for batch in chunk.split(batch_size)]
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    for batch in batches:
        if labelled is not None:
            batch = torch.cat([batch, labelled.draw()])
            batch = batch[torch.randperm(len(batch), generator=generator)]
        yield batch.tensor_split(world_size)[rank] if world_size > 1 else batch


def num_batches(n: int, batch_size: int) -> int:
    return -(-n // batch_size)


def row_lengths(data: ArrayDataset, buckets: bool) -> torch.Tensor | None:
    """``(N,)`` lengths of token sequences to bucket by, read a chunk of rows at a time; None for other data
    or without ``buckets``."""
    if not buckets:
        return None
    first_row = torch.from_numpy(np.array(data.x[:1]))  # a copy: x may be a read-only view
    if not holds_token_ids(first_row, data.levels):
        return None
    return torch.cat([sequence_lengths(torch.from_numpy(chunk)) for chunk in data.row_chunks(1 << 16)])


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
        buckets: bool = False,
        labelled_per_batch: int = 0,
    ) -> None:
        self.x = torch.from_numpy(np.ascontiguousarray(data.x)).to(device)
        self.labelled = labelled_rows(data, labelled_per_batch, generator)
        self.y = None if data.y is None else torch.from_numpy(np.ascontiguousarray(data.y)).to(device)
        self.levels, self.lengths = data.levels, row_lengths(data, buckets)
        self.batch_size, self.generator, self.rank, self.world_size = batch_size, generator, rank, world_size

    def __len__(self) -> int:
        return num_batches(len(self.x), self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        shards = shard_batches(
            len(self.x), self.batch_size, self.generator, self.rank, self.world_size, self.lengths, self.labelled
        )
        for index in shards:
            index = index.to(self.x.device)
            y = None if self.y is None else self.y.index_select(0, index)
            yield stored_batch(self.x.index_select(0, index), y, self.levels, self.x.device).trimmed()


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

    def __init__(
        self,
        n: int,
        batch_size: int,
        generator: torch.Generator | None,
        rank: int,
        world_size: int,
        lengths: torch.Tensor | None,
        labelled: LabelledRows | None,
    ) -> None:
        self.args = (n, batch_size, generator, rank, world_size, lengths, labelled)

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
        buckets: bool = False,
        labelled_per_batch: int = 0,
    ) -> None:
        labelled = labelled_rows(data, labelled_per_batch, generator)
        self.loader = DataLoader(
            _IndexedArrays(data),
            sampler=_EpochBatches(
                len(data), batch_size, generator, rank, world_size, row_lengths(data, buckets), labelled
            ),
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
            yield stored_batch(x, y, self.levels, self.device).trimmed()
