"""Read a .csv table column by column: each column's parsed values, its feature, its missing cells, and the
file line of every row, so that every message names the column and the line an editor shows.

Rules (one reader for ``vaelab train`` and ``vaelab detect``; each decides what it accepts):

- The first line is the header naming the columns (a byte-order mark is skipped); names are stripped and
  must differ. A first line of numbers only is taken for a missing header and rejected.
- Blank lines are skipped but counted, so line numbers stay those of the file (the header is line 1).
- A cell that is empty or reads ``na``, ``nan``, ``null`` or ``none`` (any case) is missing.
- A column is categorical when it is declared so, or when it has present cells and none of them is a
  number; otherwise it is numeric, and a present cell that is not a number, or is infinite, is an error.
- Each column's feature kind follows :func:`vaelab.data.schema.infer_feature` on its present values:
  integers where every present cell is written as an integer, floats otherwise, strings when categorical.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.data.download import one_line
from vaelab.data.schema import Feature, infer_feature
from vaelab.errors import UserError, shown

MISSING_CELLS = frozenset({"", "na", "nan", "null", "none"})
INT64_LIMIT = 2**63  # a column with an integer this large is read as floats


@dataclass(frozen=True)
class TableColumn:
    """One column: ``values`` (N,) float64 with NaN where missing, or for a categorical column the stripped
    strings as an object array with NaN where missing; ``missing`` (N,) bool; and its ``feature``."""

    feature: Feature
    values: np.ndarray
    missing: np.ndarray

    @property
    def name(self) -> str:
        return self.feature.name

    @property
    def is_categorical(self) -> bool:
        return self.feature.kind == "categorical"


@dataclass(frozen=True)
class CsvTable:
    """The columns of a .csv file in header order and ``lines`` (N,), the file line of each row."""

    path: Path
    columns: tuple[TableColumn, ...]
    lines: np.ndarray

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> TableColumn:
        return self.columns[self.names.index(name)]


def read_csv_table(path: Path, categorical: Sequence[str] = (), declare_flag: str | None = None) -> CsvTable:
    """The table in ``path``; the columns named in ``categorical`` are read as categories whatever they hold.

    ``declare_flag`` is how the caller's user declares a column categorical (such as ``--categorical``);
    the message for a number column holding text suggests it when given. Raises UserError on bad input.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            numbered = [(reader.line_num, row) for row in reader if row]  # line_num: the row's last line
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{path}: cannot read it as UTF-8 .csv ({one_line(error)}); save it as plain CSV") from error
    _check_header(path, header, categorical)
    for line, row in numbered:
        if len(row) != len(header):
            raise UserError(
                f"{path}: line {line} has {len(row)} values but the header names {len(header)} columns; "
                "give every row one value per column"
            )
    lines = np.array([line for line, _ in numbered], dtype=np.int64)
    cells = list(zip(*(row for _, row in numbered), strict=True)) if numbered else [() for _ in header]
    columns = tuple(
        _read_column(path, name, column, lines, name in categorical, declare_flag)
        for name, column in zip(header, cells, strict=True)
    )
    return CsvTable(path, columns, lines)


def _check_header(path: Path, header: list[str], categorical: Sequence[str]) -> None:
    if not header:
        raise UserError(f"{path}: is empty; a .csv needs a header row naming the columns, then data rows")
    if all(_parse_cell(name)[0] is not None for name in header):
        raise UserError(f"{path}: the first line holds numbers, not column names; add a header row")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise UserError(f"{path}: the header repeats column {', '.join(map(repr, repeated))}; name every column once")
    for name in categorical:
        if name not in header:
            raise UserError(
                f"{path}: has no column {name!r} (columns: {', '.join(map(shown, header))}); check the name"
            )


def _read_column(
    path: Path, name: str, cells: Sequence[str], lines: np.ndarray, declared: bool, declare_flag: str | None
) -> TableColumn:
    """One column under the rules in the module docstring."""
    missing = np.array([cell.strip().lower() in MISSING_CELLS for cell in cells], dtype=bool)
    present = [cell.strip() for cell, gone in zip(cells, missing, strict=True) if not gone]
    parsed = [_parse_cell(cell) for cell in present]
    if declared or (present and all(value is None for value, _ in parsed)):
        values = np.array([np.nan if gone else cell.strip() for cell, gone in zip(cells, missing, strict=True)], object)
        return TableColumn(infer_feature(name, np.array(present, dtype=object)), values, missing)
    present_lines = lines[~missing]
    for line, cell, (value, _) in zip(present_lines, present, parsed, strict=True):
        if value is None:
            fix = (
                f"fix it, or declare the column categorical with {declare_flag} {name}"
                if declare_flag
                else "fix it, or drop the column"
            )
            raise UserError(f"{path}: column {name!r} holds the non-numeric value {cell!r} at line {line}; {fix}")
        if not np.isfinite(value):
            raise UserError(f"{path}: column {name!r} has an infinite value at line {line}; replace it or drop the row")
    numbers = np.array([value for value, _ in parsed], dtype=np.float64)
    values = np.full(len(cells), np.nan)
    values[~missing] = numbers
    integral = all(is_int for _, is_int in parsed) and not (np.abs(numbers) >= INT64_LIMIT).any()
    return TableColumn(infer_feature(name, numbers.astype(np.int64) if integral else numbers), values, missing)


def _parse_cell(cell: str) -> tuple[float | None, bool]:
    """A cell as (its number, or None when it is not one; whether it is written as an integer)."""
    try:
        return float(int(cell)), True
    except OverflowError:
        return math.inf, True  # an integer beyond float64's range
    except ValueError:
        pass
    try:
        return float(cell), False
    except ValueError:
        return None, False
