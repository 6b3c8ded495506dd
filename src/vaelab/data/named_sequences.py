"""Published sequence datasets by name: their files, checksums and mirrors, and the one loader they share.

A dataset's files live in ``<data_dir>/<name>/`` (the cache when no data dir is given); a missing file is
downloaded from the first mirror that serves it with the published sha256 (:func:`vaelab.data.download.download`).
Its ``train`` file gives the ``train`` split and, held out by a fixed seeded permutation, the ``valid`` split
(:func:`vaelab.data.splits.hold_out`, 10 %, at most 10,000 rows); each other file is the split of its name. The
texts become token ids by :func:`vaelab.data.sequences.load_sequences` with the user's options.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import DownloadError, dataset_folder, download
from vaelab.data.sequences import TRAIN, SequenceOptions, SequenceSource, load_sequences
from vaelab.data.splits import check_split, hold_out
from vaelab.data.text_rows import TextRows, read_text_rows
from vaelab.errors import UserError

VALID = "valid"


class DatasetNotice(UserWarning):
    """Something a user of a named dataset must know to read its figures right."""


@dataclass(frozen=True)
class NamedSequences:
    """A published dataset of sequences: ``files`` (split -> file name; ``train`` among them), the
    ``sha256`` of each file, the ``mirrors`` (folder URLs) to download them from, the CSV ``column`` holding the
    texts (None: one per line), whether they are ``molecules``, and a ``notice`` given on every load (or None)."""

    name: str
    files: dict[str, str]
    sha256: dict[str, str]
    mirrors: tuple[str, ...]
    column: str | None
    molecules: bool
    notice: str | None = None

    @property
    def splits(self) -> tuple[str, ...]:
        return (TRAIN, VALID, *(split for split in self.files if split != TRAIN))


def load_named_sequences(
    dataset: NamedSequences,
    split: str,
    data_dir: Path | None,
    options: SequenceOptions,
    mirrors: Sequence[str] | None = None,
) -> ArrayDataset:
    """One split of ``dataset`` (``mirrors`` replaces the dataset's own)."""
    check_split(split, dataset.splits, dataset.name)
    if options.column is not None:
        raise UserError(f"{dataset.name}: column= picks the column of a .csv file; leave it out for a named dataset")
    if dataset.notice is not None:
        warnings.warn(dataset.notice, DatasetNotice, stacklevel=3)
    folder = dataset_folder(dataset.name, data_dir)
    needed = {TRAIN, split} & set(dataset.files)  # the training file gives the vocabulary of every split
    paths = {name: _find_or_download(dataset, folder, dataset.files[name], mirrors) for name in sorted(needed)}

    def file(wanted: str) -> Path:
        return paths[TRAIN if wanted == VALID else wanted]

    def read(wanted: str) -> TextRows:
        rows = read_text_rows(file(wanted), dataset.column, dataset.molecules)
        return rows.subset(hold_out(len(rows))[wanted]) if wanted in (TRAIN, VALID) else rows

    source = SequenceSource(dataset.name, dataset.splits, read, dataset.molecules, file)
    return load_sequences(source, split, options)


def _find_or_download(dataset: NamedSequences, folder: Path, file_name: str, mirrors: Sequence[str] | None) -> Path:
    """``folder/file_name``, downloaded first when absent."""
    path = folder / file_name
    if path.is_file():
        return path
    try:
        return download(
            file_name, dataset.mirrors if mirrors is None else mirrors, folder, sha256=dataset.sha256[file_name]
        )
    except DownloadError as error:
        raise UserError(
            f"{dataset.name}: missing {path} and could not download it ({error}); put the file there (sha256 "
            f"{dataset.sha256[file_name]}), or pass --data-dir (or set VAELAB_DATA_DIR) to the folder that holds "
            f"{dataset.name}/"
        ) from error
