"""Sequence datasets from a file given by path: ``.txt`` and ``.smi`` (one sequence per line) or a ``.csv``
column, each optionally gzipped (read by :mod:`vaelab.data.text_rows`).

A ``.smi`` file holds molecules (SMILES); a ``.txt`` or ``.csv`` holds molecules when ``tokens`` is ``smiles``
or ``selfies``, else plain text. As array files, a file is split 80/10/10 by a fixed seeded permutation
(:func:`vaelab.data.splits.random_split_indices`), and ``all`` is every row in file order; the vocabulary
comes from the ``train`` part.
"""

from __future__ import annotations

from pathlib import Path

from vaelab.data.dataset import ArrayDataset
from vaelab.data.sequences import SequenceOptions, SequenceSource, load_sequences
from vaelab.data.splits import FILE_SPLITS, random_split_indices
from vaelab.data.text_rows import TextRows, read_text_rows, text_type
from vaelab.errors import UserError


def load_sequence_file(path: Path, split: str, options: SequenceOptions) -> ArrayDataset:
    """One split of the sequences in ``path`` (``options.column`` names a .csv's column)."""
    molecules = text_type(path) == ".smi"
    strip = molecules or options.tokenizer(molecules).molecules

    def read(wanted: str) -> TextRows:
        rows = read_text_rows(path, options.column, strip)
        if wanted == "all":
            return rows
        index = random_split_indices(len(rows))[wanted]
        if index.size == 0:
            raise UserError(
                f"{path}: split {wanted!r} is empty ({len(rows)} sequences are too few for an 80/10/10 split); give "
                "at least 10, or use split 'all'"
            )
        return rows.subset(index)

    return load_sequences(SequenceSource(path.stem, FILE_SPLITS, read, molecules, lambda _: path), split, options)
