"""pandas DataFrames <-> the column mapping of :mod:`vaelab.data.table_columns`, keeping each column's dtype."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vaelab.data.schema import Feature
from vaelab.data.table_columns import decode_columns
from vaelab.errors import UserError

TRUE_LABELS = frozenset({"True", "true", "1", "1.0"})  # a boolean column's categories that mean True


def frame_columns(frame: Any) -> dict[str, np.ndarray]:
    """A DataFrame's columns in order: numbers as float64 with NaN where missing (booleans kept), everything
    else as an object array with None where missing. Column names become strings and must differ."""
    if not isinstance(frame, pd.DataFrame):
        raise UserError(f"expected a pandas DataFrame, got {type(frame).__name__}; wrap arrays in pd.DataFrame")
    names = [str(name) for name in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UserError(f"the DataFrame repeats column {repeated[0]!r}; name every column once")
    columns: dict[str, np.ndarray] = {}
    for name, (_, column) in zip(names, frame.items(), strict=True):
        if pd.api.types.is_bool_dtype(column.dtype):
            columns[name] = column.to_numpy(dtype=bool)
        elif pd.api.types.is_numeric_dtype(column.dtype):
            columns[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = column.astype(object).to_numpy(copy=True)
            values[pd.isna(column).to_numpy()] = None
            columns[name] = values
    return columns


def column_dtypes(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's dtype by name, as pandas spells it (restored by :func:`columns_frame`)."""
    return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}


def columns_frame(columns: Mapping[str, np.ndarray], dtypes: Mapping[str, str], order: Sequence[str]) -> pd.DataFrame:
    """Decoded columns as a DataFrame in ``order``, each cast back to its fitted dtype where its values allow
    (an integer column with a missing cell becomes pandas' nullable ``Int64``)."""
    frame = pd.DataFrame({name: columns[name] for name in order})
    for name in order:
        dtype = dtypes.get(name, "object")
        values = frame[name]
        if dtype == "object":
            continue
        if dtype == "bool":  # a 0/1 column read as two categories comes back as their labels ("False", "True")
            frame[name] = values if pd.api.types.is_bool_dtype(values) else values.astype(str).isin(TRUE_LABELS)
        elif dtype.startswith(("int", "uint", "Int", "UInt")):
            frame[name] = values.astype(dtype if not values.isna().any() else "Int64")
        else:
            frame[name] = values.astype(dtype)
    return frame


def features_frame(x: np.ndarray, features: Sequence[Feature], clip: bool = False) -> pd.DataFrame:
    """Model-space rows ``(N, D)`` as a DataFrame in the columns' own units, typed by their features alone (no
    fitted dtypes: a run of ``vaelab train``): whole-number columns as nullable ``Int64``, other numbers as
    floats, categories as text; ``clip`` keeps numbers within their training range."""
    columns = decode_columns(x, features, clip=clip)
    frame = pd.DataFrame({f.name: columns[f.name] for f in features})
    for feature in features:
        if feature.kind != "categorical" and (feature.integer or feature.kind != "continuous"):
            frame[feature.name] = frame[feature.name].astype("Int64")
    return frame
