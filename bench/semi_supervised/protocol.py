"""The semi-supervised protocol on binarized MNIST, from the data this project holds (``../shared/data``).

The MNIST training images are not in the shared data, so the labels come from the binarized ``test`` split, whose
labels are known: ``keep_labelled`` draws N of its rows (balanced, N / 10 per class, seeded by the draw) as the
labelled images, and accuracy is measured on the other ``10,000 - N`` test rows, never on a labelled one. The
unlabelled data are the 50,000 binarized ``train`` rows; the 10,000 ``valid`` rows, without labels, are the
validation data of the ELBO monitor. Every method gets the same training set (``Protocol.train``: the unlabelled
rows with label ``UNLABELLED``, then the labelled ones) and is scored on the same evaluation rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.data.semi_supervised import UNLABELLED, is_labelled, keep_labelled
from vaelab.errors import UserError

DATASET = "binarized-mnist"
NUM_CLASSES = 10


@dataclass(frozen=True)
class Protocol:
    """One label draw. ``train``: unlabelled rows then the N labelled test rows, ``y`` int64 (``UNLABELLED`` where
    unknown); ``labelled``: those N rows with their labels; ``evaluation``: the other test rows with theirs;
    ``valid``: the unlabelled validation rows; ``labelled_rows`` / ``evaluation_rows``: their indices in the test
    split."""

    train: ArrayDataset
    labelled: ArrayDataset
    evaluation: ArrayDataset
    valid: ArrayDataset
    labelled_rows: np.ndarray
    evaluation_rows: np.ndarray

    @property
    def num_unlabelled(self) -> int:
        return len(self.train) - len(self.labelled)


def split_test_rows(test_labels: np.ndarray, num_labelled: int, draw: int) -> tuple[np.ndarray, np.ndarray]:
    """The test rows ``(N,)`` that keep their label in ``draw`` and the rest ``(10,000 - N,)``, both sorted."""
    kept = is_labelled(keep_labelled(test_labels, num_labelled, seed=draw, num_classes=NUM_CLASSES))
    return np.flatnonzero(kept), np.flatnonzero(~kept)


def unlabelled_subset(num_rows: int, limit: int | None, seed: int = 0) -> np.ndarray:
    """Rows kept of ``num_rows`` unlabelled ones: all, or a seeded ``limit`` of them (sorted), for smoke tests and
    for methods too slow for all of them."""
    if limit is None or limit >= num_rows:
        return np.arange(num_rows)
    if limit < 1:
        raise UserError(f"--unlabelled-limit {limit}: keep at least one unlabelled row")
    return np.sort(np.random.default_rng(seed).choice(num_rows, limit, replace=False))


def load_protocol(
    num_labelled: int, draw: int, data_dir: str | Path | None, unlabelled_limit: int | None = None
) -> Protocol:
    """The protocol's data for ``num_labelled`` labels drawn with seed ``draw``; ``unlabelled_limit`` keeps a
    seeded subset of the unlabelled rows (the same subset for every draw)."""
    test = load_dataset(DATASET, "test", data_dir)
    if test.y is None:
        raise UserError(
            f"the {DATASET} test split loaded without labels: put MNIST's t10k-labels-idx1-ubyte(.gz) in "
            "<data_dir>/mnist/"
        )
    unlabelled = load_dataset(DATASET, "train", data_dir)
    valid = load_dataset(DATASET, "valid", data_dir)
    labelled_rows, evaluation_rows = split_test_rows(test.y, num_labelled, draw)
    kept = unlabelled_subset(len(unlabelled), unlabelled_limit)
    x = np.concatenate([np.asarray(unlabelled.x)[kept], np.asarray(test.x)[labelled_rows]])
    y = np.concatenate([np.full(len(kept), UNLABELLED, dtype=np.int64), test.y[labelled_rows].astype(np.int64)])
    train = ArrayDataset(x, y, unlabelled.levels, DATASET, NUM_CLASSES)
    labelled = replace(test, x=np.asarray(test.x)[labelled_rows], y=test.y[labelled_rows])
    evaluation = replace(test, x=np.asarray(test.x)[evaluation_rows], y=test.y[evaluation_rows])
    return Protocol(train, labelled, evaluation, valid, labelled_rows, evaluation_rows)


def flat_images(data: ArrayDataset) -> np.ndarray:
    """``(N, 784)`` float32 0/1 pixels, for the scikit-learn methods."""
    return np.asarray(data.x, dtype=np.float32).reshape(len(data), -1)
