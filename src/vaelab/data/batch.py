"""The batch: the one shape in which data reach a model, an objective, an estimator or a command.

Every path that turns stored rows into model inputs (the trainer's in-memory and DataLoader batches,
evaluation, the command line, the report) goes through :func:`stored_batch`, so stored values are mapped
to model space in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset, holds_token_ids, to_model_space
from vaelab.data.graph_batch import GraphBatch, to_graph_batch
from vaelab.data.semi_supervised import UNLABELLED
from vaelab.data.vocabulary import sequence_lengths
from vaelab.errors import UserError


@dataclass(frozen=True)
class Batch:
    """B examples and what is known about them.

    - ``x``: ``(B, *data_shape)`` model-space values. Unobserved entries hold any finite value (the
      loaders put 0 there), so that no NaN reaches a gradient.
    - ``y``: ``(B,)`` int64 class labels or ``(B, K)`` float32 condition vectors; None when there are none.
    - ``labelled``: ``(B,)`` bool, the rows whose ``y`` is known (semi-supervised data); None: all of them.
    - ``mask``: ``(B, *data_shape)`` bool, the observed entries (missing cells); None: all observed.
    - ``lengths``: ``(B,)`` int64 lengths of variable-length sequences along the first data axis; the
      entries past a row's length are padding. None: every row has the full length.
    - ``graph``: for a graph, its edges (:class:`~vaelab.data.graph_batch.GraphBatch`); the rows of ``x`` are
      its nodes, and the batch is the whole graph (its rows cannot be taken apart).
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    labelled: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    lengths: torch.Tensor | None = None
    graph: GraphBatch | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def observed(self) -> torch.Tensor | None:
        """``(B, *data_shape)`` bool: entries that are observed and not padding; None when all are."""
        if self.lengths is None:
            return self.mask
        steps = torch.arange(self.x.shape[1], device=self.x.device)  # (T,)
        in_sequence = steps < self.lengths.unsqueeze(1)  # (B, T)
        padding = in_sequence.reshape(*in_sequence.shape, *([1] * (self.x.dim() - 2))).expand_as(self.x)
        return padding if self.mask is None else padding & self.mask

    def trimmed(self) -> Batch:
        """Variable-length sequences cut after the batch's longest row (padding beyond it holds nothing)."""
        if self.lengths is None:
            return self
        return replace(self, x=self.x[:, : max(1, int(self.lengths.max()))])

    def rows(self, start: int, stop: int) -> Batch:
        """Rows ``start:stop`` of every field. A graph's nodes depend on each other: its batch is taken whole."""
        if self.graph is not None:
            if start > 0 or stop < len(self):
                raise UserError("a graph's nodes are encoded together: take the graph's batch whole")
            return self
        return self._map(lambda t: t[start:stop])

    def take(self, index: torch.Tensor) -> Batch:
        """The rows ``index: (R,)`` (repeats allowed) of every field; not for a graph (see ``rows``)."""
        if self.graph is not None:
            raise UserError("a graph's nodes are encoded together: take the graph's batch whole")
        return self._map(lambda t: t.index_select(0, index))

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        moved = self._map(lambda t: t.to(device, non_blocking=non_blocking))
        return moved if self.graph is None else replace(moved, graph=self.graph.to(device))

    def _map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> Batch:
        changes = {
            f.name: function(value) for f in fields(self) if isinstance(value := getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **changes)  # type: ignore[arg-type]


def as_batch(data: torch.Tensor | Batch, y: torch.Tensor | None = None) -> Batch:
    """A ``Batch`` as given, or one made of the tensors ``x`` (and ``y``)."""
    if isinstance(data, Batch):
        return data
    return Batch(data, None if y is None else torch.as_tensor(y, device=data.device))


def stored_batch(
    x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray | None, levels: int | None, device: torch.device | str
) -> Batch:
    """Rows as a dataset stores them (``levels`` as in ``ArrayDataset``) -> a model-space ``Batch`` on ``device``.

    A missing value (NaN) becomes a masked entry holding 0 (``Batch.mask``), and an unknown class label
    (``UNLABELLED``) an unlabelled row holding class 0 (``Batch.labelled``).

    Token ids (:func:`~vaelab.data.dataset.holds_token_ids`) stay int64 ids, and their ``lengths`` (the end
    token included) are read from the padding, so every path that makes batches masks it."""
    x = torch.from_numpy(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x
    y = torch.from_numpy(np.ascontiguousarray(y)) if isinstance(y, np.ndarray) else y
    y = None if y is None else y.to(device, non_blocking=True)
    x = x.to(device, non_blocking=True)
    lengths = sequence_lengths(x) if holds_token_ids(x, levels) else None
    stored_as_floats = x.is_floating_point()  # only floats hold NaN
    x = to_model_space(x, levels)
    x, mask = _missing_masked(x) if stored_as_floats else (x, None)
    y, labelled = _unknown_labels_masked(y)
    return Batch(x, y, labelled=labelled, mask=mask, lengths=lengths)


def _unknown_labels_masked(y: torch.Tensor | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Class labels with ``UNLABELLED`` rows -> the labels with 0 there, and the labelled rows (None when every
    row is labelled, or ``y`` holds no class labels)."""
    if y is None or y.dim() != 1 or y.is_floating_point():
        return y, None
    labelled = y != UNLABELLED
    if bool(labelled.all()):
        return y, None
    return y.masked_fill(~labelled, 0), labelled


def _missing_masked(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Floating-point values with NaN where missing -> the values with 0 there, and the observation mask
    (None when every value is present)."""
    missing = torch.isnan(x)
    if not bool(missing.any()):
        return x, None
    return x.masked_fill(missing, 0.0), ~missing


def graph_batch(data: ArrayDataset, device: torch.device | str) -> Batch:
    """A graph dataset (``data.graph`` set) as one ``Batch``: every node's features and the split's edges."""
    assert data.graph is not None
    return replace(
        stored_batch(np.asarray(data.x), None, data.levels, device), graph=to_graph_batch(data.graph, device)
    )


def dataset_batches(data: ArrayDataset, batch_size: int, device: torch.device | str) -> Iterator[Batch]:
    """The whole dataset in data order, ``batch_size`` rows at a time (memory-mapped rows read per batch); a
    graph as one batch."""
    if data.graph is not None:
        yield graph_batch(data, device)
        return
    for start in range(0, len(data), batch_size):
        rows = slice(start, start + batch_size)
        yield stored_batch(data.x[rows], None if data.y is None else data.y[rows], data.levels, device)


def dataset_rows(data: ArrayDataset, index: np.ndarray, device: torch.device | str) -> Batch:
    """The rows ``index`` of ``data`` as one model-space ``Batch``."""
    return stored_batch(np.asarray(data.x[index]), None if data.y is None else data.y[index], data.levels, device)
