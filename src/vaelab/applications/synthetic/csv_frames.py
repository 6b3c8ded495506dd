"""A .csv read by the data layer's column-aware reader (every message names the column and line) as a DataFrame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vaelab.data.csv_table import read_csv_table


def read_csv_frame(path: Path) -> pd.DataFrame:
    """The table in ``path``: text columns as objects (None where missing), numbers written as whole numbers as
    ``int64`` (``Int64`` when a cell is missing), other numbers as ``float64``."""
    table = read_csv_table(path)
    columns: dict[str, pd.Series] = {}
    for column in table.columns:
        values = column.values
        if column.is_categorical:
            series = pd.Series(
                [None if gone else value for value, gone in zip(values, column.missing, strict=True)], dtype=object
            )
        else:
            present = values[~column.missing]
            whole = bool(present.size) and bool(np.all(present == np.round(present))) and np.abs(present).max() < 2**53
            dtype = ("Int64" if column.missing.any() else "int64") if whole else "float64"
            series = pd.Series(values).astype(dtype) if whole else pd.Series(values, dtype="float64")
        columns[column.name] = series
    return pd.DataFrame(columns)
