"""Read the rows ``vaelab detect`` scores: a .csv with a header (numeric and categorical columns), an .npy
array, or an .npz with the data under ``x``/``X`` (or its only key) and optional labels (``y`` or a named key).

CSV cells are checked while parsing, so every message names the column and the line of the file (the
header is line 1), which is what an editor shows: a column whose cells
are all numbers (or empty) is numeric, one with no numbers at all is categorical, and a column mixing
both is an error unless it is declared categorical. Empty cells are missing values.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.applications.anomaly.validation import InvalidInput
from vaelab.data.download import one_line
from vaelab.data.files import npz_data_and_label_keys, open_npz, read_member

FILE_TYPES = (".csv", ".npy", ".npz")
MISSING_CELLS = frozenset({"", "na", "nan", "null", "none"})
_NPZ_FIX = "save the rows under 'x' (labels under 'y') with numpy.savez"


@dataclass(frozen=True)
class DetectInput:
    """Rows to score: ``x`` (float64 (N, D), object (N, D) with category strings, or images), the 0/1
    anomaly labels if any, the categorical column positions, and the column names (CSV only)."""

    x: np.ndarray
    y: np.ndarray | None
    categorical: list[int]
    columns: list[str] | None = None


def read_detect_input(
    path: Path, label_column: str | None = None, categorical: Sequence[str] = (), missing: str = "error"
) -> DetectInput:
    """The rows of ``path``; ``label_column`` names the CSV column or .npz key holding 0/1 labels."""
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise InvalidInput(f"{path}: unsupported file type {suffix!r}; use one of: {', '.join(FILE_TYPES)}")
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}; check the path")
    if suffix == ".csv":
        return _read_csv(path, label_column, list(categorical), missing)
    if categorical:
        raise InvalidInput(f"{path}: --categorical applies to .csv columns; a {suffix} array has only numbers")
    if suffix == ".npy":
        if label_column is not None:
            raise InvalidInput(f"{path}: a .npy file holds one array, so it has no labels; use an .npz with 'y'")
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise InvalidInput(
                f"{path}: cannot read it as .npy ({one_line(error)}); save it with numpy.save"
            ) from error
        return DetectInput(_check_array(x, path), None, [])
    return _read_npz(path, label_column)


def _check_array(x: np.ndarray, path: Path) -> np.ndarray:
    if x.ndim not in (2, 3, 4) or x.dtype.kind not in "biuf":
        raise InvalidInput(
            f"{path}: holds {x.dtype} data of shape {x.shape}; give numbers shaped (N, D) for a table or "
            "(N, H, W) / (N, C, H, W) for images"
        )
    return x


def _read_npz(path: Path, label_column: str | None) -> DetectInput:
    with open_npz(path, _NPZ_FIX) as archive:
        data_key, label_key = npz_data_and_label_keys(list(archive.files), label_column, path, "--label-column")
        x = _check_array(read_member(archive, data_key, path, _NPZ_FIX), path)
        y = None if label_key is None else read_member(archive, label_key, path, _NPZ_FIX)
    return DetectInput(x, None if y is None else _labels(y, len(x), f"{path}: labels {label_key!r}"), [])


def _labels(values: np.ndarray, n: int, where: str, lines: Sequence[int] | None = None) -> np.ndarray:
    """0/1 anomaly labels, (N,) int64; ``lines`` are the file lines of the rows (CSV), for messages."""
    if values.shape != (n,):
        raise InvalidInput(f"{where} have shape {values.shape} for {n} rows; give one 0/1 label per row")
    ok = np.isin(values, (0, 1))
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        at = f"line {lines[row]}" if lines is not None else f"row {row}"
        value = values[row].item()  # a Python number: its repr reads 2.0, not np.float64(2.0)
        raise InvalidInput(f"{where}: the value {value!r} at {at} is not a label; use 0 (normal) or 1 (anomaly)")
    return values.astype(np.int64)


def _read_csv(path: Path, label_column: str | None, categorical: list[str], missing: str) -> DetectInput:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            numbered = [(reader.line_num, row) for row in reader if row]  # line_num: the row's last line
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInput(f"{path}: cannot read it as UTF-8 .csv ({one_line(error)}); save it as plain CSV") from error
    if not header:
        raise InvalidInput(f"{path}: is empty; a .csv needs a header row naming the columns, then data rows")
    for name in [*categorical, *([label_column] if label_column else [])]:
        if name not in header:
            raise InvalidInput(f"{path}: has no column {name!r} (columns: {', '.join(header)}); check the name")
    lines = [line for line, _ in numbered]
    cells = [values for _, values in numbered]
    for line, values in numbered:
        if len(values) != len(header):
            raise InvalidInput(
                f"{path}: line {line} has {len(values)} values but the header names {len(header)} columns; "
                "give every row one value per column"
            )
    columns = list(zip(*cells, strict=True)) if cells else [() for _ in header]
    parsed = {
        name: _column(path, name, column, name in categorical, missing, lines)
        for name, column in zip(header, columns, strict=True)
    }
    y = None
    if label_column is not None:
        labels = parsed.pop(label_column)
        if labels.dtype == object or np.isnan(labels).any():
            raise InvalidInput(f"{path}: label column {label_column!r} must hold 0 or 1 in every row")
        y = _labels(labels, len(cells), f"{path}: label column {label_column!r}", lines)
    names = list(parsed)
    is_categorical = [i for i, name in enumerate(names) if parsed[name].dtype == object]
    if is_categorical:
        x = np.empty((len(cells), len(names)), dtype=object)
        for i, name in enumerate(names):
            x[:, i] = parsed[name]
    else:
        x = np.stack([parsed[name] for name in names], axis=1) if names else np.empty((len(cells), 0))
    return DetectInput(x, y, is_categorical, names)


def _column(
    path: Path, name: str, cells: Sequence[str], declared: bool, missing: str, lines: Sequence[int]
) -> np.ndarray:
    """One CSV column: float64 with NaN for missing cells, or (categorical) object strings with NaN;
    ``lines`` are the cells' lines in the file, for messages."""
    values: list[float | None] = [_number(cell) for cell in cells]
    absent = [cell.strip().lower() in MISSING_CELLS for cell in cells]
    if missing != "impute" and any(absent):
        line = lines[absent.index(True)]
        raise InvalidInput(
            f"{path}: column {name!r} has a missing value at line {line}; fill or drop it, or pass --missing impute"
        )
    numeric = [v is not None for v, gone in zip(values, absent, strict=True) if not gone]
    if declared or (numeric and not any(numeric)):
        return np.array(
            [np.nan if gone else cell.strip() for cell, gone in zip(cells, absent, strict=True)], dtype=object
        )
    for line, value, cell, gone in zip(lines, values, cells, absent, strict=True):
        if gone:
            continue
        if value is None:
            raise InvalidInput(
                f"{path}: column {name!r} holds the non-numeric value {cell!r} at line {line}; fix it, or declare "
                f"the column categorical with --categorical {name}"
            )
        if not math.isfinite(value):
            raise InvalidInput(
                f"{path}: column {name!r} has an infinite value at line {line}; replace it or drop the row"
            )
    return np.array(
        [np.nan if gone or v is None else v for v, gone in zip(values, absent, strict=True)], dtype=np.float64
    )


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None
