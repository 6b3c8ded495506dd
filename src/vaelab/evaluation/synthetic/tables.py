"""What every synthetic-table metric shares: the input checks, the joint category codes of a column, and the
mean of the scores that are defined.

A metric takes two or three tables (``pandas.DataFrame``) with the same columns and ``categorical``, the names of
the categorical columns; every other column must be numeric. A missing cell is ``NaN`` (or ``None``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ColumnKinds:
    """The columns of checked tables, in the first table's order, split into numeric and categorical."""

    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]


def column_kinds(tables: Mapping[str, pd.DataFrame], categorical: Sequence[str]) -> ColumnKinds:
    """Check ``tables`` (name -> table; the names appear in the messages) against one another and against
    ``categorical``; a ValueError names the first offending table and column."""
    if isinstance(categorical, str):
        raise ValueError(f"categorical must be a list of column names, not the string {categorical!r}")
    (first_name, first), *others = tables.items()
    for name, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"{name} must be a pandas DataFrame, not {type(table).__name__}")
        if table.shape[0] == 0 or table.shape[1] == 0:
            raise ValueError(f"{name} has no rows or no columns (shape {table.shape})")
        duplicated = table.columns[table.columns.duplicated()]
        if len(duplicated):
            raise ValueError(f"{name} has the column {duplicated[0]!r} more than once")
    columns = tuple(first.columns)
    for name, table in others:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{name} lacks the column {missing[0]!r} that {first_name} has")
        extra = [c for c in table.columns if c not in first.columns]
        if extra:
            raise ValueError(f"{name} has the column {extra[0]!r} that {first_name} lacks")
    unknown = [c for c in categorical if c not in first.columns]
    if unknown:
        raise ValueError(f"categorical names the column {unknown[0]!r}, which the tables do not have")
    for name, table in tables.items():
        for column in columns:
            if column not in categorical and not pd.api.types.is_numeric_dtype(table[column]):
                raise ValueError(
                    f"column {column!r} of {name} is not numeric (dtype {table[column].dtype}); "
                    "name it in categorical if it holds categories"
                )
    return ColumnKinds(
        columns=columns,
        numeric=tuple(c for c in columns if c not in categorical),
        categorical=tuple(c for c in columns if c in categorical),
    )


def category_codes(*columns: pd.Series) -> tuple[list[np.ndarray], int]:
    """The cells of ``columns`` as integer codes of one shared numbering of their values (equal values, equal
    codes, whichever column they are in), -1 for a missing cell; and the number of distinct values."""
    codes, uniques = pd.factorize(pd.concat([c.astype(object) for c in columns], ignore_index=True))
    bounds = np.cumsum([0, *(len(c) for c in columns)])
    return [codes[start:stop] for start, stop in itertools.pairwise(bounds)], len(uniques)


def mean_of_defined(scores: Iterable[float]) -> float:
    """The mean of the scores that are not NaN (as SDMetrics averages a property); NaN when none is."""
    defined = [s for s in scores if not math.isnan(s)]
    return sum(defined) / len(defined) if defined else math.nan
