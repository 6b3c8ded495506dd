"""What kind of data a dataset holds: the schema that travels with every :class:`ArrayDataset`.

**Kind of data** (``DataSchema.kind``, one of :data:`KINDS`). The rule that detects it from the shape of
one example (:func:`detect_kind`): ``(C, H, W)`` is an ``"image"``, ``(D,)`` is a ``"table"``; any
other shape is an error. A user may state the kind instead (``--kind``, ``data.kind``,
``load_dataset(kind=...)``); :func:`check_kind` rejects a kind that does not fit the shape. A
``"sequence"`` (token ids ``(T,)`` with a vocabulary) is never detected or stated onto arrays: it comes from
a sequence loader (:mod:`vaelab.data.sequences`), so a table of integers stays a table; a ``"series"``
(windows ``(W, C)``) comes from a .csv of timestamps and values (:mod:`vaelab.data.series`); a ``"graph"``
(one example per node, its features ``(F,)``, and the edges) from a graph loader (:mod:`vaelab.data.graphs`).

**Feature kinds** (``Feature.kind``, one of :data:`FEATURE_KINDS`), one per table column, inferred from
the column's present (non-missing) values by :func:`infer_feature`:

- booleans, or numbers that are all 0 or 1 -> ``"binary"`` with ``levels`` 2;
- other numbers -> ``"continuous"`` (also a column with no present values);
- strings -> ``"categorical"`` with ``categories`` the distinct strings sorted, a category stored as its
  index in that tuple.

``"count"`` and ``"ordinal"`` are never inferred: a column of small non-negative integers cannot tell a
count from an ordinal level or a measurement, so such a column is one a user declares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError

KINDS = ("image", "table", "sequence", "series", "graph")
"""Kinds of data."""

FEATURE_KINDS = ("continuous", "binary", "categorical", "count", "ordinal")
"""Kinds of one table column."""

SHAPES = {"image": "(C, H, W)", "table": "(D,)", "sequence": "(T,)", "series": "(W, C)", "graph": "(F,) per node"}
"""The shape of one example of each kind some loader reads today, as messages write it."""

_DIMENSIONS = {"image": 3, "table": 1}
"""The number of dimensions of one example of each kind that is detected."""

DETECTED_KINDS = tuple(_DIMENSIONS)
"""The kinds :func:`detect_kind` tells from the shape; a user may state them onto arrays."""


@dataclass(frozen=True)
class Feature:
    """One table column: its name, its kind, and the values it takes.

    ``categories`` (categorical only): the labels, a stored integer ``k`` meaning ``categories[k]``.
    ``levels`` (binary, ordinal, count on a grid): the number of values ``0..levels-1``.

    How a column of a mixed table (:mod:`vaelab.data.table_columns`) maps to model space and back:
    ``loc`` and ``scale`` (continuous): the model-space value is ``(value - loc) / scale``, fitted on the
    training rows; ``low`` and ``high``: the training range in the column's own units (continuous, count,
    ordinal), for clipping output; ``integer``: the values are whole numbers (rounded on output); ``mode`` and
    ``mode_share`` (continuous): the value the training rows hold most often, in the column's units, and the share
    of them that hold it (a spike such as a column's zeros; None and 0 when unknown).
    """

    name: str
    kind: str
    categories: tuple[str, ...] | None = None
    levels: int | None = None
    loc: float = 0.0
    scale: float = 1.0
    low: float | None = None
    high: float | None = None
    integer: bool = False
    mode: float | None = None
    mode_share: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            kinds = ", ".join(FEATURE_KINDS)
            raise ValueError(f"feature {self.name!r}: unknown kind {self.kind!r}; use one of: {kinds}")
        if (self.categories is not None) != (self.kind == "categorical"):
            raise ValueError(f"feature {self.name!r}: categories are given for categorical features, and only them")
        if self.levels is not None and (self.kind not in ("binary", "ordinal", "count") or self.levels < 2):
            raise ValueError(f"feature {self.name!r}: levels (at least 2) are for binary, ordinal and count features")


@dataclass(frozen=True)
class DataSchema:
    """The kind of data, the shape of one example, its value grid, and its features or vocabulary.

    ``levels``: the dataset-wide value grid (as :attr:`ArrayDataset.levels`), None for continuous data.
    ``features``: one per column of a table (``shape == (len(features),)``), None when unknown.
    ``vocabulary``: the tokens of a sequence dataset (``kind == "sequence"``), and only of one.
    """

    kind: str
    shape: tuple[int, ...]
    levels: int | None = None
    features: tuple[Feature, ...] | None = None
    vocabulary: Vocabulary | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of data {self.kind!r}; use one of: {', '.join(KINDS)}")
        if (self.vocabulary is not None) != (self.kind == "sequence"):
            raise ValueError(
                f"a vocabulary describes the tokens of sequence data, and only them; this is {self.kind} data"
            )
        if self.features is not None and (self.kind != "table" or self.shape != (len(self.features),)):
            raise ValueError(
                f"{len(self.features)} features describe the columns of a table; this is {self.kind} data "
                f"shaped {self.shape}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain lists, strings and numbers, for JSON; :meth:`from_dict` reads it back."""
        return {
            "kind": self.kind,
            "shape": list(self.shape),
            "levels": self.levels,
            "features": None if self.features is None else [feature_dict(f) for f in self.features],
            "vocabulary": None if self.vocabulary is None else self.vocabulary.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSchema:
        features = d.get("features")
        vocabulary = d.get("vocabulary")
        return cls(
            kind=d["kind"],
            shape=tuple(int(s) for s in d["shape"]),
            levels=d.get("levels"),
            features=None if features is None else tuple(feature_from_dict(f) for f in features),
            vocabulary=None if vocabulary is None else Vocabulary.from_dict(vocabulary),
        )


def feature_dict(feature: Feature) -> dict[str, Any]:
    """Plain lists, strings and numbers, for JSON."""
    d = asdict(feature)
    d["categories"] = None if feature.categories is None else list(feature.categories)
    return d


def feature_from_dict(d: dict[str, Any]) -> Feature:
    """A feature from the plain dict :func:`feature_dict` writes (older dicts lack the scaling fields)."""
    categories = d.get("categories")
    return Feature(
        d["name"],
        d["kind"],
        None if categories is None else tuple(str(c) for c in categories),
        d.get("levels"),
        loc=float(d.get("loc", 0.0)),
        scale=float(d.get("scale", 1.0)),
        low=d.get("low"),
        high=d.get("high"),
        integer=bool(d.get("integer", False)),
        mode=d.get("mode"),
        mode_share=float(d.get("mode_share", 0.0)),
    )


def detect_kind(shape: tuple[int, ...]) -> str:
    """The kind of data whose examples have ``shape``: ``(C, H, W)`` -> "image", ``(D,)`` -> "table"."""
    for kind, dimensions in _DIMENSIONS.items():
        if len(shape) == dimensions:
            return kind
    raise UserError(
        f"cannot tell the kind of data from examples shaped {tuple(shape)}: images are (C, H, W) and tables "
        "(D,); reshape the data to one of those"
    )


def check_kind(kind: str, shape: tuple[int, ...]) -> None:
    """UserError unless ``kind`` is a kind some loader reads, may be stated onto arrays, and examples shaped
    ``shape`` fit it."""
    check_kind_name(kind)
    if kind == "series":
        raise UserError(
            "series come from a .csv of timestamps and values, not arrays: use vaelab detect --series FILE.csv"
        )
    if kind == "graph":
        raise UserError("a graph comes with its edges: give a graph .npz (num_nodes, edges), edges in a .csv, or cora")
    if kind not in DETECTED_KINDS:
        raise UserError(
            f"{kind} data come from text, not arrays: give a .txt or .smi file (one sequence per line), a .csv with "
            "column=, or the moses or zinc dataset; arrays hold images or tables"
        )
    shape = tuple(shape)
    if len(shape) != _DIMENSIONS[kind]:
        raise UserError(
            f"kind {kind!r} needs examples shaped {SHAPES[kind]}, but these are shaped {shape}; leave the kind "
            "out to detect it from the shape, or reshape the data"
        )


def check_kind_name(kind: str) -> None:
    """UserError unless ``kind`` is a kind some loader reads; checked before any data is loaded."""
    if kind not in KINDS:
        raise UserError(f"unknown kind of data {kind!r}; use one of: {', '.join(KINDS)}")


def infer_feature(name: str, values: np.ndarray) -> Feature:
    """The feature of a column from its present values (the rule in the module docstring)."""
    kind = values.dtype.kind
    if kind == "b":
        return Feature(name, "binary", levels=2)
    if kind in "US" or (kind == "O" and all(isinstance(v, str) for v in values)):
        return Feature(name, "categorical", categories=tuple(sorted({str(v) for v in values})))
    if kind in "iuf":
        binary = values.size and bool(np.isin(values, (0, 1)).all())
        return Feature(name, "binary", levels=2) if binary else Feature(name, "continuous")
    raise UserError(f"column {name!r} holds {values.dtype} values; store numbers, booleans or strings")
