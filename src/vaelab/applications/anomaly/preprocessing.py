"""Tabular preprocessing fitted on the training rows: numeric scaling, one-hot categories, constants, missing.

Plain numpy with an explicit fitted state: :meth:`TabularPreprocessor.state` is a dict of JSON types and
:meth:`TabularPreprocessor.from_state` rebuilds the fitted preprocessor from it, so a fitted detector saves
without pickle. The maps are those of the scikit-learn construction the preprocessor was first built from
(a ``ColumnTransformer`` of ``SimpleImputer``, ``RobustScaler(unit_variance=True)`` / ``StandardScaler`` /
``QuantileTransformer(output_distribution="normal")`` and ``OneHotEncoder(max_categories=50,
handle_unknown="infrequent_if_exist")``), to float32 precision; ``tests/test_detector_saving.py`` compares
the two. One difference: a categorical column with no value in the training rows (``missing="impute"``) is
left out with a :class:`ConstantColumnsWarning` at fit, where scikit-learn's imputer dropped it with a
warning at every transform; the model-space columns are the same.

Inputs are 2-D arrays or pandas DataFrames (pandas is used only when the caller passes a DataFrame). Every
bad value raises an error naming its column and row.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from vaelab.applications.anomaly.validation import InvalidInput, check_finite_column, is_missing, numeric_column

MAX_CATEGORIES = 50
"""Per categorical column at most this many indicators: rarer categories share one 'infrequent' indicator."""
QUANTILES = 1000
NORMAL_IQR = float(ndtri(0.75) - ndtri(0.25))
"""Inter-quartile range of a standard normal (1.3489...): dividing an IQR by it gives a normal column unit variance."""
BOUNDS_THRESHOLD = 1e-7
"""As scikit-learn's QuantileTransformer: values within this of the training range's ends map to its ends,
and the normal scores are clipped to the quantiles of probabilities this close to 0 and 1 (about +-5.2)."""
_CLIP_LOW = float(ndtri(BOUNDS_THRESHOLD - np.spacing(1)))
_CLIP_HIGH = float(ndtri(1 - (BOUNDS_THRESHOLD - np.spacing(1))))
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class ColumnScale:
    """One numeric column's map: ``(x - center) / scale``, or, given ``quantiles`` (the training values at
    evenly spaced probabilities from 0 to 1), the map through the training CDF onto a standard normal. A
    ``binary`` column (two values in the training rows, ``center`` and ``center + scale``) maps them to 0 and
    1 linearly, clipped to [0, 1]: a value beyond either counts as that one, a value between them falls in
    between (where a Bernoulli's log-density interpolates linearly)."""

    center: float = 0.0
    scale: float = 1.0
    quantiles: list[float] | None = None
    binary: bool = False

    def apply(self, values: np.ndarray) -> np.ndarray:
        if self.binary:
            return np.clip((values - self.center) / self.scale, 0.0, 1.0)
        if self.quantiles is None:
            return (values - self.center) / self.scale
        return _normal_scores(values, np.asarray(self.quantiles, dtype=np.float64))


def _normal_scores(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """QuantileTransformer's forward map: the mean of the interpolations upwards and downwards (so tied
    quantiles map to the middle of their probabilities), the training range's ends to 0 and 1, then the
    standard normal quantile function, clipped."""
    references = np.linspace(0, 1, len(quantiles), endpoint=True)
    below = values - BOUNDS_THRESHOLD < quantiles[0]
    above = values + BOUNDS_THRESHOLD > quantiles[-1]
    probabilities = 0.5 * (
        np.interp(values, quantiles, references) - np.interp(-values, -quantiles[::-1], -references[::-1])
    )
    probabilities[above] = 1.0
    probabilities[below] = 0.0
    return np.clip(ndtri(probabilities), _CLIP_LOW, _CLIP_HIGH)


def _standardised(values: np.ndarray) -> ColumnScale:
    """Mean and population standard deviation; a column indistinguishable from a constant keeps scale 1
    (StandardScaler's test on the variance)."""
    mean = float(np.mean(values))
    variance = float(np.var(values))
    n = len(values)
    constant = variance <= n * _EPS * variance + (n * mean * _EPS) ** 2
    return ColumnScale(center=mean, scale=1.0 if constant else float(np.sqrt(variance)))


def _robust_scale(values: np.ndarray) -> ColumnScale:
    """Median and IQR / NORMAL_IQR (RobustScaler with unit_variance; an IQR near 0 counts as 1)."""
    q1, q3 = np.nanpercentile(values, [25, 75])
    iqr = float(q3 - q1)
    return ColumnScale(center=float(np.nanmedian(values)), scale=(iqr if iqr >= 10 * _EPS else 1.0) / NORMAL_IQR)


# A scaling maps the training values of the varying numeric columns, as given (N, k; NaN where missing) and
# with missing cells imputed (N, k), to (position among those k, fitted map) per column, in output order.
Scaling = Callable[[np.ndarray, np.ndarray], list[tuple[int, ColumnScale]]]


def _standard(given: np.ndarray, filled: np.ndarray) -> list[tuple[int, ColumnScale]]:
    return [(j, _standardised(filled[:, j])) for j in range(filled.shape[1])]


def _robust(given: np.ndarray, filled: np.ndarray) -> list[tuple[int, ColumnScale]]:
    """Median and inter-quartile range (scaled so a normal column gets unit variance), so that outliers in
    the training rows do not set the scale; a column whose IQR is zero (one value in over half the rows)
    falls back to mean and standard deviation rather than to no scaling at all. The columns scaled by
    their IQR come first, then the others."""
    q1, q3 = np.nanpercentile(given, [25, 75], axis=0)
    flat = q3 == q1
    robust = [(int(j), _robust_scale(filled[:, j])) for j in np.flatnonzero(~flat)]
    return robust + [(int(j), _standardised(filled[:, j])) for j in np.flatnonzero(flat)]


def _quantile(given: np.ndarray, filled: np.ndarray) -> list[tuple[int, ColumnScale]]:
    """Each column mapped through its training CDF onto a standard normal (values beyond the training range
    land at about +-5.2 sigma, so one extreme row cannot dominate training)."""
    probabilities = np.linspace(0, 1, min(QUANTILES, len(filled)), endpoint=True)
    quantiles = np.nanpercentile(filled, probabilities * 100, axis=0)
    return [(j, ColumnScale(quantiles=quantiles[:, j].tolist())) for j in range(filled.shape[1])]


SCALINGS: dict[str, Scaling] = {
    "robust": _robust,
    "standard": _standard,
    "quantile": _quantile,
}
"""Numeric scaling by name -> the fitted map of each varying column."""

MISSING = ("error", "impute")


@dataclass(frozen=True)
class NumericColumn:
    """A varying numeric column: missing cells filled with ``fill`` (the training median; None when
    missing cells are rejected), then ``scaling`` applied."""

    position: int
    fill: float | None
    scaling: ColumnScale

    def transform(self, values: np.ndarray) -> np.ndarray:
        if self.fill is not None:
            values = np.where(np.isnan(values), self.fill, values)
        return self.scaling.apply(values)[:, None]

    def state(self) -> dict[str, Any]:
        scaling = self.scaling
        return {
            "position": self.position,
            "fill": self.fill,
            "center": scaling.center,
            "scale": scaling.scale,
            "quantiles": scaling.quantiles,
            "binary": scaling.binary,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NumericColumn:
        quantiles = state["quantiles"]
        scaling = ColumnScale(
            float(state["center"]),
            float(state["scale"]),
            None if quantiles is None else [float(q) for q in quantiles],
            bool(state["binary"]),
        )
        return cls(int(state["position"]), None if state["fill"] is None else float(state["fill"]), scaling)


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column's one-hot block: an indicator per category of ``frequent`` (sorted), then, with
    ``infrequent``, one indicator shared by every other category, seen in training or not; without it an
    unseen category is all zeros. ``fill``: the most frequent training category, for missing cells (None
    when they are rejected).

    As OneHotEncoder(max_categories=50, handle_unknown="infrequent_if_exist"): a column with 50 or more
    categories keeps the 49 most frequent (ties: the later in sorted order) and groups the rest."""

    position: int
    fill: str | None
    frequent: list[str]
    infrequent: bool

    @classmethod
    def fit(cls, position: int, values: list[str | None], impute: bool) -> CategoricalColumn:
        counts = Counter(value for value in values if value is not None)
        fill = None
        if impute:  # the most frequent (ties: the first in sorted order), which the missing cells then join
            top = max(counts.values())
            fill = min(category for category, count in counts.items() if count == top)
            counts[fill] += sum(value is None for value in values)
        categories = sorted(counts)
        if len(categories) + 1 <= MAX_CATEGORIES:  # scikit-learn counts the infrequent indicator in the 50
            return cls(position, fill, categories, infrequent=False)
        order = np.argsort([counts[category] for category in categories], kind="mergesort")
        kept = np.sort(order[len(categories) - (MAX_CATEGORIES - 1) :])
        return cls(position, fill, [categories[k] for k in kept], infrequent=True)

    @property
    def width(self) -> int:
        """Indicators in the block: one per frequent category, and the shared infrequent one."""
        return len(self.frequent) + self.infrequent

    def transform(self, values: list[str | None]) -> np.ndarray:
        index: dict[str | None, int] = {category: k for k, category in enumerate(self.frequent)}
        other = len(self.frequent) if self.infrequent else -1
        hits = np.array([index.get(self.fill if value is None else value, other) for value in values], dtype=np.int64)
        out = np.zeros((len(values), self.width))
        rows = np.flatnonzero(hits >= 0)
        out[rows, hits[rows]] = 1.0
        return out

    def state(self) -> dict[str, Any]:
        return {"position": self.position, "fill": self.fill, "frequent": self.frequent, "infrequent": self.infrequent}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CategoricalColumn:
        fill = state["fill"]
        return cls(
            int(state["position"]),
            None if fill is None else str(fill),
            [str(category) for category in state["frequent"]],
            bool(state["infrequent"]),
        )


@dataclass(frozen=True)
class _Table:
    """Columns of a 2-D input as 1-D arrays, with the names used in messages."""

    names: list[str]
    columns: list[np.ndarray]
    numeric_dtype: list[bool]
    is_frame: bool

    def label(self, i: int) -> str:
        return f"column {self.names[i]!r}" if self.is_frame else f"column {i}"


def is_frame(x: Any) -> bool:
    """True for a pandas DataFrame (checked by its attributes, so pandas need not be installed)."""
    return hasattr(x, "columns") and hasattr(x, "dtypes") and hasattr(x, "iloc")


def _read_table(x: Any) -> _Table:
    if is_frame(x):
        import pandas as pd  # a DataFrame was passed, so pandas is importable

        columns, numeric = [], []
        for _, column in x.items():
            is_numeric = bool(pd.api.types.is_numeric_dtype(column.dtype))
            if is_numeric:
                columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                values = column.to_numpy(dtype=object)
                values[pd.isna(column).to_numpy()] = np.nan
                columns.append(values)
            numeric.append(is_numeric)
        return _Table([str(c) for c in x.columns], columns, numeric, is_frame=True)
    array = np.asarray(x)  # every column of an array is numeric unless declared categorical
    return _Table([str(i) for i in range(array.shape[1])], list(array.T), [True] * array.shape[1], is_frame=False)


def _present(column: np.ndarray) -> np.ndarray:
    return column[~np.isnan(column)]


def _binary_column(position: int, column: np.ndarray, impute: bool) -> NumericColumn:
    """A two-valued column mapped to 0 (the smaller value) and 1; missing cells (``impute``) filled with the
    more frequent value."""
    values, counts = np.unique(_present(column), return_counts=True)
    scaling = ColumnScale(center=float(values[0]), scale=float(values[1] - values[0]), binary=True)
    return NumericColumn(position, float(values[np.argmax(counts)]) if impute else None, scaling)


def _spread(column: np.ndarray) -> float:
    """max - min over the non-missing values (0 when there are none)."""
    present = _present(column)
    return float(present.max() - present.min()) if present.size else 0.0


class ConstantColumnsWarning(UserWarning):
    """Columns left out of the model because they hold one value (or none) in the training rows."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        names = ", ".join(repr(name) for name in columns)
        super().__init__(
            f"left out constant (or empty) columns {names}: they hold one value in the training rows, so they "
            "cannot tell rows apart"
        )


class TabularPreprocessor:
    """Fit on training rows, then map any rows to the float32 model-space matrix ``(N, D_model)``.

    - numeric columns: ``scaling`` (see :data:`SCALINGS`); constant columns are dropped;
    - categorical columns (non-numeric DataFrame columns, plus ``categorical_columns`` given by name or
      position): one-hot (:class:`CategoricalColumn`); an unseen category maps to all zeros, or to the shared
      'infrequent' indicator of a column with 50 categories or more; a column with no value is dropped;
    - ``binary=True``: a numeric column with two values in the training rows (a 0/1 flag, a one-hot column
      encoded by the user) is mapped to 0 and 1 rather than scaled, for a Bernoulli likelihood
      (:attr:`model_kinds_` says which model-space columns are 0/1);
    - ``missing="error"`` rejects NaN / None naming the column and row, ``"impute"`` fills them with the
      training median (numeric; a binary column's more frequent value) or most frequent category; infinite
      values are always rejected.

    The model-space columns are the scaled numeric columns (in the scaling's order), then the binary ones,
    then the one-hot blocks.
    """

    def __init__(
        self,
        scaling: str = "robust",
        missing: str = "error",
        categorical_columns: Sequence[int | str] | None = None,
        binary: bool = False,
    ) -> None:
        if scaling not in SCALINGS:
            raise InvalidInput(f"unknown scaling {scaling!r}; use one of: {', '.join(SCALINGS)}")
        if missing not in MISSING:
            raise InvalidInput(f"unknown missing={missing!r}; use one of: {', '.join(MISSING)}")
        self.scaling = scaling
        self.missing = missing
        self.categorical_columns = list(categorical_columns or [])
        self.binary = binary

    def fit(self, x: Any) -> TabularPreprocessor:
        table = _read_table(x)
        self.columns_ = table.names
        self.categorical_ = self._categorical_positions(table)
        numeric = self._numeric(table)
        varying = [i for i, column in numeric.items() if _spread(column) > 0]
        self.numeric_ = self._fit_numeric(numeric, varying)
        categories = {i: self._categories(table, i) for i in self.categorical_}
        impute = self.missing == "impute"
        self.categories_ = [
            CategoricalColumn.fit(i, values, impute)
            for i, values in categories.items()
            if any(v is not None for v in values)
        ]
        kept = varying + [column.position for column in self.categories_]
        self.constant_ = [name for i, name in enumerate(table.names) if i not in kept]
        if not kept:
            raise InvalidInput("every column is constant (or empty), so there is nothing to learn; check the data")
        if self.constant_:
            warnings.warn(ConstantColumnsWarning(self.constant_), stacklevel=3)
        return self

    @property
    def num_model_features_(self) -> int:
        """Width of the model-space matrix."""
        return len(self.model_kinds_)

    @property
    def model_kinds_(self) -> list[str]:
        """Each model-space column's kind: "binary" (0/1: a two-valued column, or a one-hot indicator, when
        ``binary``) or "continuous"."""
        numeric = ["binary" if column.scaling.binary else "continuous" for column in self.numeric_]
        indicator = "binary" if self.binary else "continuous"
        return numeric + [indicator] * sum(column.width for column in self.categories_)

    def transform(self, x: Any) -> np.ndarray:
        table = _read_table(x)
        if len(table.names) != len(self.columns_):
            raise InvalidInput(
                f"X has {len(table.names)} features, but the detector was fitted on {len(self.columns_)}; "
                "give the same columns as in training"
            )
        numeric = self._numeric(table)
        categories = {i: self._categories(table, i) for i in self.categorical_}
        blocks = [column.transform(numeric[column.position]) for column in self.numeric_]
        blocks += [column.transform(categories[column.position]) for column in self.categories_]
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def state(self) -> dict[str, Any]:
        """The parameters and the fitted state as JSON types (:meth:`from_state` reads it back)."""
        return {
            "scaling": self.scaling,
            "missing": self.missing,
            "categorical_columns": [c if isinstance(c, str) else int(c) for c in self.categorical_columns],
            "binary": self.binary,
            "columns": self.columns_,
            "categorical": self.categorical_,
            "constant": self.constant_,
            "numeric": [column.state() for column in self.numeric_],
            "categories": [column.state() for column in self.categories_],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularPreprocessor:
        """The fitted preprocessor :meth:`state` describes; a malformed state raises KeyError, TypeError or
        ValueError."""
        preprocessor = cls(state["scaling"], state["missing"], state["categorical_columns"], bool(state["binary"]))
        preprocessor.columns_ = [str(name) for name in state["columns"]]
        preprocessor.categorical_ = [int(i) for i in state["categorical"]]
        preprocessor.constant_ = [str(name) for name in state["constant"]]
        preprocessor.numeric_ = [NumericColumn.from_state(column) for column in state["numeric"]]
        preprocessor.categories_ = [CategoricalColumn.from_state(column) for column in state["categories"]]
        return preprocessor

    def _fit_numeric(self, numeric: dict[int, np.ndarray], varying: list[int]) -> list[NumericColumn]:
        """The scaled columns, fitted on the training values with missing cells imputed by the median, then
        (``binary``) the two-valued columns."""
        two_valued = [i for i in varying if self.binary and len(np.unique(_present(numeric[i]))) == 2]
        scaled = [i for i in varying if i not in two_valued]
        columns = [_binary_column(i, numeric[i], self.missing == "impute") for i in two_valued]
        if not scaled:
            return columns
        given = np.stack([numeric[i] for i in scaled], axis=1)
        medians = np.nanmedian(given, axis=0) if self.missing == "impute" else None
        filled = given if medians is None else np.where(np.isnan(given), medians, given)
        return [
            NumericColumn(scaled[j], None if medians is None else float(medians[j]), scaling)
            for j, scaling in SCALINGS[self.scaling](given, filled)
        ] + columns

    def _categorical_positions(self, table: _Table) -> list[int]:
        positions = {i for i, numeric in enumerate(table.numeric_dtype) if not numeric}
        count = len(table.names)
        for column in self.categorical_columns:
            if isinstance(column, str) and table.is_frame and column in table.names:
                positions.add(table.names.index(column))
            elif isinstance(column, int | np.integer) and -count <= column < count:
                positions.add(int(column) % count)
            else:
                names = f" ({', '.join(table.names)})" if table.is_frame else ""
                raise InvalidInput(
                    f"categorical column {column!r} is neither a column name{names} nor a position in "
                    f"0..{count - 1}; fix categorical_columns"
                )
        return sorted(positions)

    def _numeric(self, table: _Table) -> dict[int, np.ndarray]:
        """Validated float64 values of every numeric column, by position."""
        allow_missing = self.missing == "impute"
        numeric = {}
        for i, values in enumerate(table.columns):
            if i in self.categorical_:
                continue
            if values.dtype == object:
                values = np.array([np.nan if is_missing(cell) else cell for cell in values], dtype=object)
            column = numeric_column(values, table.label(i))
            check_finite_column(column, table.label(i), allow_missing)
            numeric[i] = column
        return numeric

    def _categories(self, table: _Table, i: int) -> list[str | None]:
        """Category cells of column ``i`` as strings (so 1 and '1' are one category); missing cells as None."""
        out: list[str | None] = []
        for row, cell in enumerate(table.columns[i]):
            if not is_missing(cell):
                out.append(str(cell))
            elif self.missing == "impute":
                out.append(None)
            else:
                raise InvalidInput(
                    f"{table.label(i)} has a missing value at row {row}; fill or drop it, or pass missing='impute' "
                    "(--missing impute) to use the most frequent category"
                )
        return out
