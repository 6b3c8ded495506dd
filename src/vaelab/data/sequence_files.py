"""Sequence datasets from a file given by path: ``.txt`` and ``.smi`` (one sequence per line) or a ``.csv``
column, each optionally gzipped (read by :mod:`vaelab.data.text_rows`).

A ``.smi`` file holds molecules (SMILES); a ``.txt`` or ``.csv`` holds molecules when ``tokens`` is ``smiles``
or ``selfies``, else plain text. As array files, a file is split 80/10/10 by a fixed seeded permutation
(:func:`vaelab.data.splits.split_rows`), and ``all`` is every row in file order; the vocabulary
comes from the ``train`` part.
"""

from __future__ import annotations

from pathlib import Path

from vaelab.data.dataset import ArrayDataset
from vaelab.data.sequences import SequenceOptions, SequenceSource, load_sequences
from vaelab.data.splits import FILE_SPLITS, split_rows
from vaelab.data.text_rows import TextRows, read_text_rows, text_type


def load_sequence_file(path: Path, split: str, options: SequenceOptions) -> ArrayDataset:
    """One split of the sequences in ``path`` (``options.column`` names a .csv's column)."""
    molecules = text_type(path) == ".smi"
    strip = molecules or options.tokenizer(molecules).molecules

    def read(wanted: str) -> TextRows:
        rows = read_text_rows(path, options.column, strip)
        index = split_rows(len(rows), wanted, str(path), "sequences", "or use split 'all'")
        return rows if index is None else rows.subset(index)

    return load_sequences(SequenceSource(path.stem, FILE_SPLITS, read, molecules, lambda _: path), split, options)
