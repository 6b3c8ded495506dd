"""Tabular preprocessing fitted on the training rows: numeric scaling, one-hot categories, constants, missing.

Built from scikit-learn's ``ColumnTransformer``, scalers, ``OneHotEncoder`` and ``SimpleImputer``. Inputs are
2-D arrays or pandas DataFrames (pandas is used only when the caller passes a DataFrame). Every bad value
raises an error naming its column and row.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, RobustScaler, StandardScaler

from vaelab.applications.anomaly.validation import InvalidInput, check_finite_column, is_missing, numeric_column

MAX_CATEGORIES = 50
"""Per categorical column: rarer categories share one 'infrequent' indicator (OneHotEncoder)."""
QUANTILES = 1000


# A scaling maps the training values of the varying numeric columns, (N, k), to groups of (scikit-learn
# transformer, positions among those k columns): each group is scaled by its own transformer.
ScalingGroups = list[tuple[Any, list[int]]]


def _standard(values: np.ndarray) -> ScalingGroups:
    return [(StandardScaler(), list(range(values.shape[1])))]


def _robust(values: np.ndarray) -> ScalingGroups:
    """Median and inter-quartile range (scaled so a normal column gets unit variance), so that outliers in
    the training rows do not set the scale; a column whose IQR is zero (one value in over half the rows)
    falls back to mean and standard deviation rather than to no scaling at all."""
    q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
    flat = q3 == q1
    return [
        (RobustScaler(unit_variance=True), np.flatnonzero(~flat).tolist()),
        (StandardScaler(), np.flatnonzero(flat).tolist()),
    ]


def _quantile(values: np.ndarray) -> ScalingGroups:
    """Each column mapped through its training CDF onto a standard normal (values beyond the training range
    land at about +-5.2 sigma, so one extreme row cannot dominate training)."""
    quantiles = QuantileTransformer(
        output_distribution="normal", n_quantiles=min(QUANTILES, len(values)), subsample=None
    )
    return [(quantiles, list(range(values.shape[1])))]


SCALINGS: dict[str, Callable[[np.ndarray], ScalingGroups]] = {
    "robust": _robust,
    "standard": _standard,
    "quantile": _quantile,
}
"""Numeric scaling by name -> the transformer groups for the training values of the varying columns."""

MISSING = ("error", "impute")


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


def _spread(column: np.ndarray) -> float:
    """max - min over the non-missing values (0 when there are none)."""
    present = column[~np.isnan(column)]
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
      position): one-hot, unseen categories map to all zeros;
    - ``missing="error"`` rejects NaN / None naming the column and row, ``"impute"`` fills them with the
      training median (numeric) or most frequent category; infinite values are always rejected.
    """

    def __init__(
        self,
        scaling: str = "robust",
        missing: str = "error",
        categorical_columns: Sequence[int | str] | None = None,
    ) -> None:
        if scaling not in SCALINGS:
            raise InvalidInput(f"unknown scaling {scaling!r}; use one of: {', '.join(SCALINGS)}")
        if missing not in MISSING:
            raise InvalidInput(f"unknown missing={missing!r}; use one of: {', '.join(MISSING)}")
        self.scaling = scaling
        self.missing = missing
        self.categorical_columns = list(categorical_columns or [])

    def fit(self, x: Any) -> TabularPreprocessor:
        table = _read_table(x)
        self.columns_ = table.names
        self.categorical_ = self._categorical_positions(table)
        numeric = self._numeric(table)
        varying = [i for i, column in numeric.items() if _spread(column) > 0]
        self.constant_ = [table.names[i] for i in numeric if i not in varying]
        if not varying and not self.categorical_:
            raise InvalidInput("every column is constant (or empty), so there is nothing to learn; check the data")
        if self.constant_:
            warnings.warn(ConstantColumnsWarning(self.constant_), stacklevel=3)
        matrix = self._matrix(table, numeric)
        imputer = [SimpleImputer(strategy="median")] if self.missing == "impute" else []
        groups = SCALINGS[self.scaling](np.stack([numeric[i] for i in varying], axis=1) if varying else matrix[:, :0])
        steps = [
            (f"numeric-{k}", make_pipeline(*imputer, scaler), [varying[j] for j in positions])
            for k, (scaler, positions) in enumerate(groups)
        ]
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False
        )
        category_imputer = (
            [SimpleImputer(strategy="most_frequent", missing_values=np.nan)] if self.missing == "impute" else []
        )
        steps.append(("categorical", make_pipeline(*category_imputer, encoder), self.categorical_))
        self.transformer_ = ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)
        self.transformer_.fit(matrix)
        self.num_model_features_ = int(self.transformer_.transform(matrix[:1]).shape[1])
        return self

    def transform(self, x: Any) -> np.ndarray:
        table = _read_table(x)
        if len(table.names) != len(self.columns_):
            raise InvalidInput(
                f"X has {len(table.names)} features, but the detector was fitted on {len(self.columns_)}; "
                "give the same columns as in training"
            )
        return self.transformer_.transform(self._matrix(table, self._numeric(table))).astype(np.float32)

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

    def _matrix(self, table: _Table, numeric: dict[int, np.ndarray]) -> np.ndarray:
        """All columns side by side: float64 when every column is numeric, else object with category strings."""
        if not self.categorical_:
            return np.stack([numeric[i] for i in range(len(table.columns))], axis=1)
        allow_missing = self.missing == "impute"
        matrix = np.empty((len(table.columns[0]), len(table.columns)), dtype=object)
        for i, values in enumerate(table.columns):
            matrix[:, i] = numeric[i] if i in numeric else _categories(values, table.label(i), allow_missing)
        return matrix


def _categories(values: np.ndarray, label: str, allow_missing: bool) -> np.ndarray:
    """Category cells as strings (so 1 and '1' are one category); missing cells as NaN."""
    out = np.empty(len(values), dtype=object)
    for row, cell in enumerate(values):
        if is_missing(cell):
            if not allow_missing:
                raise InvalidInput(
                    f"{label} has a missing value at row {row}; fill or drop it, or pass missing='impute' "
                    "(--missing impute) to use the most frequent category"
                )
            out[row] = np.nan
        else:
            out[row] = str(cell)
    return out
