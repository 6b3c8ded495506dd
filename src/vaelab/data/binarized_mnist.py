"""``binarized-mnist``: the fixed binarization of MNIST (Larochelle's 50000/10000/10000 split).

Read from ``<data_dir>/binarized-mnist/binarized_mnist_uint8.npz`` (keys train/valid/test, (N, 784)
uint8 0/1). When that file is absent it is built once from the original ``.amat`` text files, which
are downloaded into the same folder, converted, and removed.

The ``test`` rows are the MNIST test images in the order of a stable sort of their labels (all 0s, then 1s,
...), so that split carries labels: the sorted ``t10k-labels`` of ``<data_dir>/mnist/`` (downloaded with the
``mnist`` dataset's mirrors and checksum when absent; without them the split loads unlabelled). The ``train``
and ``valid`` rows are shuffled and carry none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import DownloadError, atomic_file, dataset_folder, download, one_line
from vaelab.data.files import open_npz, read_member
from vaelab.data.idx import MIRRORS, NUM_CLASSES, find_or_download, read_idx
from vaelab.data.splits import SPLITS, check_split
from vaelab.errors import UserError

NAME = "binarized-mnist"
NPZ_NAME = "binarized_mnist_uint8.npz"
AMAT_MIRRORS: tuple[str, ...] = ("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",)
"""Where the ``binarized_mnist_{train,valid,test}.amat`` files are downloaded from, tried in order."""
SIDE = 28


def load_binarized_mnist(split: str, data_dir: Path | None, mirrors: Sequence[str] | None = None) -> ArrayDataset:
    """One split as uint8 (N, 1, 28, 28) images of 0/1 (levels 2); ``test`` with its labels (module docstring)."""
    check_split(split, SPLITS, NAME)
    folder = dataset_folder(NAME, data_dir)
    path = folder / NPZ_NAME
    if not path.is_file():
        build_npz(folder, AMAT_MIRRORS if mirrors is None else mirrors)
    rows = _read_split(path, split)
    labels = _test_labels(data_dir, len(rows)) if split == "test" else None
    return ArrayDataset(
        rows.reshape(len(rows), 1, SIDE, SIDE), labels, 2, NAME, None if labels is None else NUM_CLASSES
    )


def _test_labels(data_dir: Path | None, num_rows: int) -> np.ndarray | None:
    """The labels of the ``test`` rows: MNIST's test labels stably sorted, or None when they cannot be had."""
    stem = "t10k-labels-idx1-ubyte"
    try:
        (path,) = find_or_download("mnist", dataset_folder("mnist", data_dir), (stem,), MIRRORS["mnist"])
    except UserError:
        return None  # offline without MNIST's labels: the images are still the likelihood benchmark
    labels = read_idx(path)
    if labels.shape != (num_rows,) or labels.dtype.kind not in "iu" or labels.max(initial=0) >= NUM_CLASSES:
        raise UserError(f"{path}: holds {labels.shape} values, not the {num_rows} MNIST test labels; replace it")
    return np.sort(labels, kind="stable").astype(np.int64)


def build_npz(folder: Path, mirrors: Sequence[str]) -> None:
    """Download the three .amat files (unless already in ``folder``), convert them to ``NPZ_NAME``
    (written atomically), then delete them."""
    amat_paths = [folder / f"binarized_mnist_{split}.amat" for split in SPLITS]
    created = not folder.exists()
    for amat in amat_paths:
        if amat.is_file():
            continue
        try:
            download(amat.name, mirrors, folder)
        except DownloadError as error:
            if created and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a failed first download leaves no empty folder behind
            raise UserError(
                f"{NAME}: missing {folder / NPZ_NAME} and could not download the .amat files to build it "
                f"({error}); put {NPZ_NAME} (keys train, valid, test) there, or pass --data-dir (or set "
                f"VAELAB_DATA_DIR) to the folder that holds {NAME}/"
            ) from error
    train, valid, test = (parse_amat(amat) for amat in amat_paths)
    try:
        with atomic_file(folder / NPZ_NAME) as out:
            np.savez_compressed(out, train=train, valid=valid, test=test)
    except OSError as error:
        raise UserError(
            f"{NAME}: cannot write {folder / NPZ_NAME} ({one_line(error)}); free space or fix permissions"
        ) from error
    for amat in amat_paths:
        amat.unlink()


def parse_amat(path: Path) -> np.ndarray:
    """An .amat file (one image per line, 784 space-separated 0/1 values) as uint8 (N, 784)."""
    fix = "delete it so it is downloaded again"
    try:
        rows = np.loadtxt(path, dtype=np.uint8, ndmin=2)
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: not a binarized MNIST .amat file ({one_line(error)}); {fix}") from error
    _check_rows(rows, path, fix)
    return rows


def _read_split(path: Path, split: str) -> np.ndarray:
    """The (N, 784) 0/1 rows stored under key ``split`` in the npz, as uint8."""
    fix = "delete it so it is rebuilt, or replace it with a file holding train, valid and test"
    with open_npz(path, fix) as archive:
        if split not in archive.files:
            raise UserError(f"{path}: has no {split!r} array (keys: {', '.join(archive.files)}); {fix}")
        rows = read_member(archive, split, path, fix)
    _check_rows(rows, path, fix)
    return rows.astype(np.uint8, copy=False)


def _check_rows(rows: np.ndarray, path: Path, fix: str) -> None:
    """UserError unless ``rows`` is a non-empty (N, 784) array of 0s and 1s."""
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != SIDE * SIDE:
        raise UserError(f"{path}: holds an array of shape {rows.shape}, not (N, {SIDE * SIDE}) images; {fix}")
    if not ((rows == 0) | (rows == 1)).all():
        raise UserError(f"{path}: holds values other than 0 and 1; {fix}")
