"""``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.data.splits import SPLITS, check_split, take_random_split

NAME = "digits"
LEVELS = 17
"""Pixel values are the integers 0..16."""
NUM_CLASSES = 10


def load_digits(split: str, data_dir: Path | None = None) -> ArrayDataset:
    """One split (80/10/10 by a fixed seeded permutation) as uint8 (N, 1, 8, 8) images with int64 labels.

    ``data_dir`` is unused: the data ships inside scikit-learn.
    """
    check_split(split, SPLITS, NAME)
    from sklearn.datasets import load_digits as sklearn_digits  # imported on use: scikit-learn is slow to import

    bunch = sklearn_digits()
    x = bunch.images.astype(np.uint8).reshape(-1, 1, 8, 8)
    dataset = ArrayDataset(x, bunch.target.astype(np.int64), LEVELS, NAME, NUM_CLASSES)
    return take_random_split(dataset, split)
