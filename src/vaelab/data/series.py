"""Time series as data: a .csv of timestamps and value columns read onto a regular time grid, missing points
masked, scaling fitted on a training part, and sliding windows as a view.

Rules:

- One column holds the timestamps (``--time-column``; default ``timestamp`` when present, else the first
  column) and the others, or the ``value_columns`` named, hold numbers. A cell that is empty or reads
  ``na``/``nan``/``null``/``none`` is a missing value; any other cell that is not a number is an error naming
  its column and file line.
- Timestamps must parse and strictly increase; the first one that does not is an error naming its line.
  With ``time_order="file"`` a repeated or earlier timestamp (a clock set back, as in several NAB series) is
  kept as the next point in file order instead.
- The grid step is the most common positive gap between consecutive timestamps. A gap of k steps (k > 1, a whole
  multiple) gets k - 1 grid points with every value missing; a gap that is not a whole number of steps is
  kept as it is. Nothing is interpolated: a missing value stays NaN in :attr:`Series.values`, and becomes a
  masked entry of the batch (:func:`vaelab.data.batch.stored_batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vaelab.data.csv_table import MISSING_CELLS
from vaelab.errors import UserError, shown

FILE_LINE_OFFSET = 2
"""Row i of the data is line i + 2 of the file (the header is line 1)."""


@dataclass(frozen=True)
class Series:
    """A series on its grid: ``timestamps`` (N,) datetime64[ns], ``values`` (N, C) float32 with NaN where a
    value is missing, ``columns`` (C names), and ``input_rows`` (R,) the grid position of each row of the
    file (grid points inserted for missing timestamps are not rows of the file)."""

    timestamps: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]
    input_rows: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def observed(self) -> np.ndarray:
        """(N, C) bool: the values present."""
        return ~np.isnan(self.values)


TIME_ORDERS = ("strict", "file")


def read_series_csv(
    path: str | Path,
    time_column: str | None = None,
    value_columns: Sequence[str] | None = None,
    time_order: str = "strict",
) -> Series:
    """The series in a .csv file (the rules in the module docstring)."""
    if time_order not in TIME_ORDERS:
        raise UserError(f"unknown time order {time_order!r}; use one of: {', '.join(TIME_ORDERS)}")
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read it as a .csv file ({str(error).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    time_name = _time_column(frame, path, time_column)
    names = _value_columns(frame, path, time_name, value_columns)
    if len(frame) == 0:
        raise UserError(f"{path}: the file has a header but no rows; give a series with at least one row")
    timestamps = _parse_timestamps(frame[time_name], path, time_name, strict=time_order == "strict")
    values = np.stack([_parse_numbers(frame[name], path, name) for name in names], axis=1)
    return on_grid(timestamps, values.astype(np.float32), tuple(names))


def _time_column(frame: pd.DataFrame, path: Path, time_column: str | None) -> str:
    if time_column is None:
        return "timestamp" if "timestamp" in frame.columns else str(frame.columns[0])
    if time_column not in frame.columns:
        raise UserError(
            f"{path}: no column {shown(time_column)!r} for --time-column; the columns are {', '.join(frame.columns)}"
        )
    return time_column


def _value_columns(frame: pd.DataFrame, path: Path, time_name: str, value_columns: Sequence[str] | None) -> list[str]:
    if value_columns is None:
        names = [str(c) for c in frame.columns if c != time_name]
    else:
        names = list(value_columns)
        unknown = [n for n in names if n not in frame.columns]
        if unknown:
            raise UserError(
                f"{path}: no column {shown(unknown[0])!r} for --value-columns; the columns are "
                f"{', '.join(frame.columns)}"
            )
    if not names:
        raise UserError(f"{path}: no value column besides the time column {shown(time_name)!r}; add one")
    return names


def _parse_timestamps(cells: pd.Series, path: Path, name: str, strict: bool) -> np.ndarray:
    """(N,) datetime64[ns]; the first unparseable timestamp is an error naming its line, and so is the first
    repeated or earlier one when ``strict``."""
    parsed = pd.to_datetime(cells.str.strip(), errors="coerce", format="mixed")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise UserError(
            f"{path}: line {row + FILE_LINE_OFFSET}: cannot read {shown(cells.iloc[row])!r} in column "
            f"{shown(name)!r} as a timestamp; write it like 2014-07-01 00:30:00"
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = parsed.to_numpy(dtype="datetime64[ns]")
    not_after = np.flatnonzero(np.diff(stamps) <= np.timedelta64(0, "ns"))
    if strict and len(not_after):
        row = int(not_after[0]) + 1
        what = "repeats" if stamps[row] == stamps[row - 1] else "comes before"
        raise UserError(
            f"{path}: line {row + FILE_LINE_OFFSET}: timestamp {cells.iloc[row].strip()} {what} the one on the line "
            "above; sort the rows by time and keep one row per timestamp, or pass --time-order file to take the "
            "rows in file order"
        )
    return stamps


def _parse_numbers(cells: pd.Series, path: Path, name: str) -> np.ndarray:
    """(N,) float64 with NaN for missing cells; the first cell that is not a number is an error."""
    text = cells.str.strip()
    missing = text.str.lower().isin(MISSING_CELLS).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~missing & ~np.isfinite(numbers))
    if len(bad):
        row = int(bad[0])
        raise UserError(
            f"{path}: line {row + FILE_LINE_OFFSET}: column {shown(name)!r} holds {shown(cells.iloc[row])!r}, which is "
            "not a finite number; value columns hold numbers (leave a cell empty for a missing value)"
        )
    return numbers


def on_grid(timestamps: np.ndarray, values: np.ndarray, columns: tuple[str, ...]) -> Series:
    """``values`` (N, C) at ``timestamps`` placed on the regular grid of the most common positive step, the
    points of whole-step gaps inserted with every value missing (a gap of no time or back in time is kept)."""
    gaps = np.diff(timestamps).astype(np.int64)  # (N - 1,) ns
    if not (gaps > 0).any():
        return Series(timestamps, values, columns, np.arange(len(timestamps)))
    steps, counts = np.unique(gaps[gaps > 0], return_counts=True)
    step = int(steps[np.argmax(counts)])
    whole = (gaps % step == 0) & (gaps > step)
    inserted = np.where(whole, gaps // step - 1, 0)  # (N - 1,) grid points added after each row
    input_rows = np.concatenate([[0], np.cumsum(inserted + 1)])  # grid position of each row
    size = int(input_rows[-1]) + 1
    grid_stamps = np.empty(size, dtype="datetime64[ns]")
    grid_values = np.full((size, values.shape[1]), np.nan, dtype=np.float32)
    grid_stamps[input_rows], grid_values[input_rows] = timestamps, values
    for row in np.flatnonzero(inserted):
        start = input_rows[row]
        fill = np.arange(1, inserted[row] + 1)
        grid_stamps[start + fill] = timestamps[row] + fill * np.timedelta64(step, "ns")
    return Series(grid_stamps, grid_values, columns, input_rows)


@dataclass(frozen=True)
class Scaler:
    """Per-column standardisation fitted on the observed values of a training part: ``(x - mean) / std``."""

    mean: np.ndarray  # (C,)
    std: np.ndarray  # (C,)

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """From ``values`` (N, C) with NaN where missing; a column with no spread keeps unit scale."""
        present = ~np.isnan(values)
        if not present.any(axis=0).all():
            raise UserError("a value column has no observed value in the training part; give it some values")
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        return cls(mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.mean) / self.std).astype(np.float32)


def sliding_windows(values: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """``values`` (N, C) -> windows (n, window, C), n = (N - window) // stride + 1, window k starting at
    point k * stride: a strided view of ``values``, no window copied."""
    if window > len(values):
        raise UserError(
            f"the series has {len(values)} points but the window is {window}; use a shorter --window or a longer series"
        )
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (N - window + 1, C, window)
    return view[::stride].transpose(0, 2, 1)
