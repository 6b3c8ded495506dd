"""The in-memory dataset every loader returns, and the map from stored values to model space."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from vaelab.data.factors import FactorOracle
from vaelab.data.graph import GraphEdges
from vaelab.data.schema import DataSchema, Feature, detect_kind
from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError


class RowView:
    """Rows ``index`` of ``base``, read only when indexed, so a split of a memory-mapped file stays on disk.

    Supports what the library does with data arrays: ``len``, ``shape``, ``dtype``, indexing by an integer,
    a slice or an index array, and ``numpy.asarray`` (which reads every row).
    """

    def __init__(self, base: np.ndarray, index: np.ndarray) -> None:
        self.base, self.index = base, index

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    @property
    def ndim(self) -> int:
        return self.base.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    def __getitem__(self, key: int | slice | np.ndarray | tuple[Any, ...]) -> np.ndarray:
        rows, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        selected = np.asarray(self.base[self.index[rows]])
        return selected[(slice(None), *rest)] if rest else selected

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.base[self.index], dtype=dtype)


@dataclass(frozen=True)
class ArrayDataset:
    """A dataset held as arrays.

    ``x`` keeps the values as stored: discrete data (``levels`` set) as small integers (uint8 when
    ``levels <= 256``), where a stored value ``k`` means ``k / (levels - 1)`` in model space; continuous
    data as float32; token sequences as integer token ids ``(N, T)`` with ``levels`` None (the stored layout of
    :mod:`vaelab.data.vocabulary`: padded with 0). Images have shape ``(N, C, H, W)``, tables ``(N, D)``.
    ``y`` holds class labels ``(N,)`` int64 or condition vectors ``(N, K)`` float32, or is None.
    A dataset whose generating factors are known also holds them, ``factors`` ``(N, K)`` int64 indices,
    and the ``oracle`` that renders any factor vector (for the disentanglement metrics).
    ``class_names`` names the classes of text labels (index order), None for numeric labels.
    ``kind`` is the kind of data a user stated (None: detected from the shape) and ``features`` the
    per-column features of a table when known, ``vocabulary`` the tokens of a sequence dataset (whose kind is
    ``"sequence"``); :attr:`schema` gathers them. A graph's dataset holds one row per node (its features)
    and ``graph``, the split's edges (:mod:`vaelab.data.graph_batch`).
    """

    x: np.ndarray | RowView  # a memory-mapped array (or a RowView of one) is read batch by batch
    y: np.ndarray | None
    levels: int | None
    name: str
    num_classes: int | None = None
    factors: np.ndarray | None = None
    oracle: FactorOracle | None = None
    kind: str | None = None
    features: tuple[Feature, ...] | None = None
    vocabulary: Vocabulary | None = None
    graph: GraphEdges | None = None
    class_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def schema(self) -> DataSchema:
        """The kind (stated, else detected from the shape), shape, value grid, features and vocabulary of the data."""
        shape = self.data_shape
        return DataSchema(self.kind or detect_kind(shape), shape, self.levels, self.features, self.vocabulary)

    @property
    def is_image(self) -> bool:
        return self.schema.kind == "image"

    def subset(self, index: np.ndarray) -> ArrayDataset:
        """The rows ``index``: copied for arrays in memory, a lazy ``RowView`` for memory-mapped ones. A graph's
        nodes are taken whole (its edges name them)."""
        if self.graph is not None:
            raise UserError(f"{self.name}: a graph's nodes are used whole; a subset of them (--limit) does not apply")
        y = None if self.y is None else self.y[index]
        x: np.ndarray | RowView
        if isinstance(self.x, RowView):
            x = RowView(self.x.base, self.x.index[index])
        elif isinstance(self.x, np.memmap):
            x = RowView(self.x, np.asarray(index))
        else:
            x = self.x[index]
        factors = None if self.factors is None else self.factors[index]
        return replace(self, x=x, y=y, factors=factors)  # every other field, the schema included, carries over

    def row_chunks(self, rows: int = 4096) -> Iterator[np.ndarray]:
        """The stored rows in chunks, so scans of memory-mapped data stay within bounded memory."""
        for start in range(0, len(self), rows):
            yield np.asarray(self.x[start : start + rows])


def holds_token_ids(x: torch.Tensor, levels: int | None) -> bool:
    """Whether stored values ``x`` are token ids: integers without ``levels`` (every other integer data has
    levels, and continuous data are floats)."""
    return levels is None and not x.is_floating_point()


def to_model_space(x: torch.Tensor, levels: int | None) -> torch.Tensor:
    """Stored values -> model-space values: float32, discrete data scaled onto [0, 1]; token ids stay integer
    ids (int64), since a token is a category, not a point on a grid."""
    if holds_token_ids(x, levels):
        return x.long()
    if levels is None or levels == 2:  # binary values are 0 and 1 already
        return x.float()
    return x.float() / (levels - 1)
