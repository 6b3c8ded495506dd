"""A mixed-type table's columns <-> model space, one :class:`~vaelab.data.schema.Feature` per column.

The one preprocessing path for tables read by ``vaelab train``, ``vaelab synth`` and :class:`vaelab.TabularVAE`:
columns come in as a mapping name -> ``(N,)`` array (floats with NaN where missing, or objects: strings with
NaN or None where missing) and leave model space as ``(N, D)`` float32 with NaN where missing (the batch turns
NaN into masked entries). Model space per feature kind:

- ``continuous``: ``(value - loc) / scale`` with the mean and standard deviation of the training rows;
- ``binary``: 0 or 1; ``count``: the count itself (a non-negative integer);
- ``ordinal``: the level ``0..levels-1``; ``categorical``: the index of the category in ``categories``.

Kinds are inferred from the values (:func:`infer_column_kind`) unless stated: strings and booleans are
categorical and binary, numbers that are all 0 or 1 binary, other numbers continuous (``integer`` when all
whole). ``count`` and ``ordinal`` are never inferred (a column of small integers cannot tell which it is).
A text column with a different value in nearly every row (an identifier, a timestamp) is refused: as
categories it would teach nothing.
Categories are those of all rows given to :func:`fit_features` (the file's), scaling and ranges those of the
training rows, so validation rows never set the scale they are scored on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from vaelab.data.schema import FEATURE_KINDS, Feature, infer_feature
from vaelab.errors import UserError

MAX_DISTINCT = 50  # a text column with more categories than this and than half its rows is refused

Columns = Mapping[str, np.ndarray]
"""Column name -> ``(N,)`` values: float64 with NaN where missing, or an object array of strings."""


def missing_cells(values: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the missing cells of one column (None, NaN, pandas' NA and NaT)."""
    import pandas as pd  # pandas: only for tables, not at start-up

    return np.asarray(pd.isna(values), dtype=bool)


def infer_column_kind(name: str, values: np.ndarray) -> str:
    """The kind of a column from its present values (:func:`vaelab.data.schema.infer_feature`); any column of
    objects (strings, or numbers mixed with text) is categorical."""
    if values.dtype.kind == "O":
        return "categorical"
    return infer_feature(name, values[~missing_cells(values)]).kind


def _numbers(name: str, values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """A column's values as float64 with NaN where missing; UserError naming the column for text."""
    if values.dtype.kind in "biuf":
        return np.where(missing, np.nan, values.astype(np.float64))
    out = np.full(len(values), np.nan)
    for row in np.flatnonzero(~missing):
        try:
            out[row] = float(values[row])
        except (TypeError, ValueError):
            raise UserError(
                f"column {name!r} holds the text {values[row]!r} at row {row}; declare the column categorical "
                "or fix the value"
            ) from None
    if not np.isfinite(out[~missing]).all():
        raise UserError(f"column {name!r} holds an infinite value; replace it or drop the row")
    return out


def _labels(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Category labels as strings (so 1 and '1' are one category), None where missing."""
    out = np.empty(len(values), dtype=object)
    present = values[~missing]
    if values.dtype.kind != "O" or any(not isinstance(v, str) for v in present):
        present = np.array([_label(v) for v in present], dtype=object)
    out[~missing] = present
    return out


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))  # a category 3 stored as 3.0 by pandas is still "3"
    return str(value)


def fit_features(
    columns: Columns, train_rows: np.ndarray | None = None, kinds: Mapping[str, str] | None = None
) -> tuple[Feature, ...]:
    """One feature per column, in the mapping's order: kinds inferred unless named in ``kinds``; categories
    from all rows; scaling and ranges from ``train_rows`` (all rows when None)."""
    kinds = dict(kinds or {})
    for name, kind in kinds.items():
        if name not in columns:
            raise UserError(f"no column {name!r} to give the kind {kind!r} (columns: {', '.join(columns)})")
        if kind not in FEATURE_KINDS:
            raise UserError(f"column {name!r}: unknown kind {kind!r}; use one of: {', '.join(FEATURE_KINDS)}")
    features = []
    for name, values in columns.items():
        missing = missing_cells(values)
        if missing.all():
            raise UserError(f"column {name!r} has no values (every cell is missing); drop the column")
        kind = kinds.get(name) or infer_column_kind(name, values)
        features.append(_fit_feature(name, kind, values, missing, train_rows))
    return tuple(features)


def _fit_feature(
    name: str, kind: str, values: np.ndarray, missing: np.ndarray, train_rows: np.ndarray | None
) -> Feature:
    if kind == "categorical":
        labels = _labels(values, missing)
        categories = tuple(sorted({str(v) for v in labels[~missing]}))
        if len(categories) > max(MAX_DISTINCT, (~missing).sum() // 2):
            raise UserError(
                f"column {name!r} holds {len(categories)} different texts in {int((~missing).sum())} rows, like "
                f"{labels[~missing][0]!r}: an identifier or a timestamp is no category; drop the column (a time "
                "series goes to vaelab detect --series)"
            )
        return Feature(name, kind, categories=categories)
    numbers = _numbers(name, values, missing)
    present = numbers[~missing]
    if kind == "binary":
        if not np.isin(present, (0.0, 1.0)).all():
            raise UserError(f"column {name!r} is binary but holds values other than 0 and 1; declare another kind")
        return Feature(name, kind, levels=2)
    _check_whole(name, kind, present)
    train = numbers if train_rows is None else numbers[train_rows]
    train = train[~np.isnan(train)]
    if train.size == 0:
        raise UserError(f"column {name!r} has no values in the training rows; drop the column or fill it")
    low, high = float(train.min()), float(train.max())
    if kind == "ordinal":
        return Feature(name, kind, levels=max(2, int(present.max()) + 1), low=low, high=high, integer=True)
    if kind == "count":
        return Feature(name, kind, low=low, high=high, integer=True)
    scale = float(train.std())
    whole = bool(np.all(present == np.round(present)))
    values, counts = np.unique(train, return_counts=True)
    return Feature(
        name,
        kind,
        loc=float(train.mean()),
        scale=scale if scale > 0 else 1.0,
        low=low,
        high=high,
        integer=whole,
        mode=float(values[np.argmax(counts)]),
        mode_share=float(counts.max() / train.size),
    )


def _check_whole(name: str, kind: str, present: np.ndarray) -> None:
    """UserError unless a count or ordinal column's present values are non-negative whole numbers."""
    if kind in ("count", "ordinal") and present.size and (present.min() < 0 or (present % 1).any()):
        raise UserError(f"column {name!r} is declared {kind} but holds negative or fractional values")


def encode_columns(columns: Columns, features: Sequence[Feature]) -> np.ndarray:
    """The columns in model space, ``(N, D)`` float32 with NaN where missing; UserError naming the column for
    a missing column, an unseen category or a value the kind cannot hold."""
    names = [feature.name for feature in features]
    absent = [name for name in names if name not in columns]
    extra = [name for name in columns if name not in names]
    if absent or extra:
        detail = f"lacks column {absent[0]!r}" if absent else f"has the unknown column {extra[0]!r}"
        raise UserError(f"the table {detail}; give the columns the model was fitted on: {', '.join(names)}")
    n = len(next(iter(columns.values()))) if columns else 0
    x = np.full((n, len(features)), np.nan, dtype=np.float32)
    for j, feature in enumerate(features):
        with np.errstate(over="ignore"):
            x[:, j] = _encode(feature, np.asarray(columns[feature.name]))
        if np.isinf(x[:, j]).any():
            row = int(np.argmax(np.isinf(x[:, j])))
            raise UserError(
                f"column {feature.name!r} holds a value at row {row} too far outside the training rows' range "
                f"({feature.low} to {feature.high}) to scale; check the value"
            )
    return x


def _encode(feature: Feature, values: np.ndarray) -> np.ndarray:
    missing = missing_cells(values)
    if feature.kind == "categorical":
        labels = _labels(values, missing)[~missing]
        import pandas as pd  # pandas: only for tables, not at start-up

        codes = pd.Index(list(feature.categories or ())).get_indexer(labels)  # -1: a label not among them
        if (codes < 0).any():
            category_index(feature, labels[int(np.argmax(codes < 0))])  # raises, naming the column and label
        out = np.full(len(values), np.nan)
        out[~missing] = codes
        return out
    numbers = _numbers(feature.name, values, missing)
    present = numbers[~missing]
    if feature.kind == "binary" and not np.isin(present, (0.0, 1.0)).all():
        raise UserError(f"column {feature.name!r} is binary but holds values other than 0 and 1")
    _check_whole(feature.name, feature.kind, present)
    if feature.kind == "ordinal" and present.size and present.max() >= (feature.levels or 0):
        raise UserError(f"column {feature.name!r} holds levels above {feature.levels - 1 if feature.levels else 0}")
    if feature.kind == "continuous":
        return (numbers - feature.loc) / feature.scale
    return numbers


def category_index(feature: Feature, value: object) -> int:
    """The index of ``value`` among a categorical feature's categories; UserError naming the column if unknown."""
    categories = feature.categories or ()
    label = _label(value)
    if label not in categories:
        shown = ", ".join(categories[:10]) + (", ..." if len(categories) > 10 else "")
        raise UserError(
            f"column {feature.name!r} has no category {label!r} (it knows: {shown}); use one of those, or refit "
            "on data that hold it"
        )
    return categories.index(label)


def mode_code(feature: Feature) -> np.float32:
    """A continuous column's most frequent value in model space, as :func:`encode_columns` writes it (float32)."""
    assert feature.mode is not None
    return np.float32((feature.mode - feature.loc) / feature.scale)


def decode_columns(x: np.ndarray, features: Sequence[Feature], clip: bool = False) -> dict[str, np.ndarray]:
    """Model-space rows ``(N, D)`` (NaN where missing) -> each column in its own units: float64 numbers
    (integer columns rounded; within the training range when ``clip``), category labels as an object array."""
    out: dict[str, np.ndarray] = {}
    for j, feature in enumerate(features):
        values = np.asarray(x[:, j], dtype=np.float64)
        if feature.kind == "categorical":
            assert feature.categories is not None
            labels = np.empty(len(values), dtype=object)
            present = ~np.isnan(values)
            index = np.clip(np.round(values[present]), 0, len(feature.categories) - 1).astype(np.int64)
            labels[present] = np.array(feature.categories, dtype=object)[index]
            labels[~present] = None
            out[feature.name] = labels
            continue
        if feature.kind == "continuous":
            scaled = values * feature.scale + feature.loc
            # the code of the most frequent value (a likelihood's atom) decodes to that value exactly, not to one
            # a rounding error away (which a fractional column would keep)
            values = scaled if feature.mode is None else np.where(values == mode_code(feature), feature.mode, scaled)
        if feature.integer:
            values = np.round(values)
        if clip and feature.low is not None and feature.high is not None:
            values = np.clip(values, feature.low, feature.high)
        out[feature.name] = values
    return out


def recode_columns(x: np.ndarray, source: Sequence[Feature], target: Sequence[Feature]) -> np.ndarray:
    """Model-space rows read with ``source`` features (a file's own) -> the same rows under ``target`` (a
    fitted model's), in the target's column order, with its scaling and category indices. UserError (from
    :func:`encode_columns`) naming a column one side lacks, or a category the target never saw."""
    return encode_columns(decode_columns(x, source), target)
