"""Read sequences from a text file: one per line (``.txt``, ``.smi``) or one column of a ``.csv``; any of them
may be gzipped (``.txt.gz``, ``.csv.gz``). Every row keeps its file line, so messages name the line an editor
shows (a CSV's header is line 1).

- ``.txt``: the line is the sequence (its line ending removed). For molecules, surrounding spaces are removed.
- ``.smi``: the first whitespace-separated field is the SMILES; the rest of the line (a name) is ignored.
- ``.csv``: a header row, then the sequence in the named ``column`` of each row, stripped of surrounding
  spaces; an empty cell is an error.
- Blank lines hold no sequence: they are skipped, and line numbers stay those of the file.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from vaelab.data.download import one_line
from vaelab.errors import UserError

LINE_TYPES = (".txt", ".smi")
"""Files that hold one sequence per line."""
TEXT_TYPES = (*LINE_TYPES, ".csv")
"""Files sequences are read from (each also gzipped, ``.gz``)."""


@dataclass(frozen=True)
class TextRows:
    """The texts of a source, ``lines`` (N,) int64 the file line of each, and ``source`` naming the file (and
    column) in messages."""

    texts: list[str]
    lines: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: np.ndarray) -> TextRows:
        return TextRows([self.texts[i] for i in index.tolist()], self.lines[index], self.source)


def text_type(path: Path) -> str:
    """The file type behind an optional ``.gz``: ``a.csv.gz`` -> ``.csv``."""
    suffixes = [s.lower() for s in path.suffixes]
    return suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else path.suffix.lower()


def read_text_rows(path: Path, column: str | None, molecules: bool) -> TextRows:
    """The sequences of ``path`` (rules in the module docstring); ``column`` names the CSV column holding them,
    ``molecules`` strips surrounding spaces."""
    kind = text_type(path)
    if kind not in TEXT_TYPES:
        raise UserError(f"{path}: sequences are read from {', '.join(TEXT_TYPES)} files (optionally .gz); not {kind!r}")
    if (kind == ".csv") != (column is not None):
        fix = "name the column that holds the sequences (column=...)" if column is None else "leave column= out"
        raise UserError(f"{path}: column= picks the sequences of a .csv file; {fix}")
    if not path.is_file():
        raise UserError(f"no such file: {path}; check the path")
    try:
        with _open_text(path) as file:
            texts, lines = _csv_rows(file, path, column) if column is not None else _line_rows(file, kind, molecules)
    except UnicodeDecodeError as error:
        raise UserError(
            f"{path}: is not UTF-8 text ({error.reason} at byte {error.start}); give a UTF-8 text file"
        ) from error
    except (OSError, EOFError, csv.Error) as error:
        raise UserError(f"{path}: cannot read it ({one_line(error)}); check the file") from error
    if not texts:
        raise UserError(f"{path}: holds no sequences; give one sequence per line")
    source = str(path) if column is None else f"{path} column {column!r}"
    return TextRows(texts, np.array(lines, dtype=np.int64), source)


def _open_text(path: Path) -> TextIO:
    """The file as text: UTF-8 (a byte-order mark skipped), any line ending, gunzipped when ``.gz``."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline=None)
    return path.open(encoding="utf-8-sig", newline=None)


def _line_rows(file: TextIO, kind: str, molecules: bool) -> tuple[list[str], list[int]]:
    """The texts of the lines that are not blank, and their lines."""
    texts, lines = [], []
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        if kind == ".smi":
            texts.append(text.split(maxsplit=1)[0])
        else:
            texts.append(text.strip() if molecules else text.rstrip("\n"))
        lines.append(line)
    return texts, lines


def _csv_rows(file: TextIO, path: Path, column: str) -> tuple[list[str], list[int]]:
    """The cells of ``column`` in the rows that are not blank, and their lines; UserError for a missing column
    or cell."""
    reader = csv.reader(file)
    header = [name.strip() for name in next(reader, [])]
    if column not in header:
        columns = ", ".join(header) or "none"
        raise UserError(f"{path}: has no column {column!r} (columns: {columns}); pass column= one of them")
    position = header.index(column)
    texts, lines = [], []
    for row in reader:
        cell = row[position].strip() if position < len(row) else ""
        if not cell:
            if not any(other.strip() for other in row):
                continue  # a blank line
            raise UserError(
                f"{path}: column {column!r} is empty at line {reader.line_num}; fill the cell or drop the row"
            )
        texts.append(cell)
        lines.append(reader.line_num)
    return texts, lines
