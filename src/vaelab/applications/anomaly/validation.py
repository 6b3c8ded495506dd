"""Input checks shared by the detector's preprocessing: each failure names the column and the row.

The errors are ``UserError`` (one line for the CLI) and also ``ValueError`` / ``TypeError``, the types
scikit-learn's estimator conventions expect for bad input.
"""

from __future__ import annotations

import numpy as np

from vaelab.errors import UserError

MIN_ROWS = 5
"""Fewest rows the detector fits on: scaling, the network and the threshold each need several."""


class InvalidInput(UserError, ValueError):
    """Bad values or shapes in the data given to the detector."""


class InvalidInputType(UserError, TypeError):
    """A cell holding an object that is neither a number nor a string (a dict, a list, ...)."""


def check_min_rows(n: int) -> None:
    if n < MIN_ROWS:
        raise InvalidInput(
            f"the detector needs at least {MIN_ROWS} rows to fit; got {n} sample{'' if n == 1 else 's'}; "
            "give it more rows"
        )


def numeric_column(values: np.ndarray, column: str) -> np.ndarray:
    """``values`` (N,) as float64; a cell that is not a number raises an error naming ``column`` and its row."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        pass
    for row, cell in enumerate(values):
        try:
            float(cell)
        except ValueError:
            raise InvalidInput(
                f"{column} holds the non-numeric value {cell!r} at row {row}; fix the value, or declare the "
                "column categorical (categorical_columns=[...], --categorical on the command line)"
            ) from None
        except TypeError as error:
            raise InvalidInputType(
                f"{column} holds {type(cell).__name__} at row {row}, which is not a number ({error}); "
                "store numbers or strings"
            ) from None
    raise AssertionError("unreachable: np.asarray failed but every cell converts")


def check_finite_column(values: np.ndarray, column: str, allow_missing: bool) -> None:
    """Reject infinite values always, and NaN (missing) unless ``allow_missing``; name the first bad row."""
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if not bad.any():
        return
    row = int(np.flatnonzero(bad)[0])
    if np.isnan(values[row]):
        raise InvalidInput(
            f"{column} has a missing value (NaN) at row {row}; fill or drop it, or pass missing='impute' "
            "(--missing impute) to impute it with the training median"
        )
    raise InvalidInput(f"{column} has an infinite value at row {row}; replace it with a finite number or drop the row")


def is_missing(cell: object) -> bool:
    """None or a float NaN: the missing markers of an object column."""
    return cell is None or (isinstance(cell, float) and cell != cell)
