"""Read the rows ``vaelab detect`` scores: a .csv with a header (numeric and categorical columns), an .npy
array, or an .npz with the data under ``x``/``X`` (or its only key) and optional labels (``y`` or a named key).

A .csv is read by the data layer's column-aware reader (:mod:`vaelab.data.csv_table`: every message names
the column and the file line; a column with no numbers is categorical, one mixing numbers and text is an
error unless declared categorical); missing cells are accepted with ``--missing impute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.applications.anomaly.validation import InvalidInput
from vaelab.data.csv_table import read_csv_table
from vaelab.data.files import npz_data_and_label_keys, open_npz, read_member, read_npy
from vaelab.errors import UserError, shown

FILE_TYPES = (".csv", ".npy", ".npz")
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
            x = np.array(read_npy(path))  # read through a memory map: the header cannot claim more than the file
        except UserError as error:
            raise InvalidInput(str(error)) from error
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
    """A .csv read by :func:`vaelab.data.csv_table.read_csv_table`, then the detector's own rules: missing
    cells only with ``missing="impute"``, and a label column of 0/1."""
    try:
        table = read_csv_table(path, categorical, declare_flag="--categorical")
    except UserError as error:
        raise InvalidInput(str(error)) from error
    if label_column is not None and label_column not in table.names:
        columns = ", ".join(map(shown, table.names))
        raise InvalidInput(f"{path}: has no column {label_column!r} (columns: {columns}); check the name")
    if missing != "impute":
        for column in table.columns:
            if column.missing.any():
                line = table.lines[int(np.argmax(column.missing))]
                raise InvalidInput(
                    f"{path}: column {column.name!r} has a missing value at line {line}; fill or drop it, or pass "
                    "--missing impute"
                )
    y = None
    if label_column is not None:
        labels = table.column(label_column)
        if labels.is_categorical or labels.missing.any():
            raise InvalidInput(f"{path}: label column {label_column!r} must hold 0 or 1 in every row")
        y = _labels(labels.values, len(table), f"{path}: label column {label_column!r}", table.lines.tolist())
    kept = [column for column in table.columns if column.name != label_column]
    is_categorical = [i for i, column in enumerate(kept) if column.is_categorical]
    if is_categorical:
        x = np.empty((len(table), len(kept)), dtype=object)
        for i, column in enumerate(kept):
            x[:, i] = column.values
    else:
        x = np.stack([column.values for column in kept], axis=1) if kept else np.empty((len(table), 0))
    return DetectInput(x, y, is_categorical, [column.name for column in kept])
