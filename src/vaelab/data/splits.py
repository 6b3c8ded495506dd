"""Split names and the fixed, seeded 80/10/10 split used by datasets that ship without one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError

SPLITS: tuple[str, ...] = ("train", "valid", "test")
"""The splits every dataset offers."""

FILE_SPLITS: tuple[str, ...] = (*SPLITS, "all")
"""Files also offer ``all``: every row, in file order."""

SPLIT_SEED = 0
VALID_FRACTION = 0.1
TEST_FRACTION = 0.1


def check_split(split: str, allowed: Sequence[str], name: str) -> None:
    """Raise a UserError unless ``split`` is one of ``allowed``."""
    if split not in allowed:
        choices = ", ".join(allowed)
        raise UserError(f"{name}: unknown split {split!r}; use one of: {choices}")


def random_split_indices(n: int) -> dict[str, np.ndarray]:
    """Disjoint train/valid/test row indices (80/10/10) from a fixed seeded permutation of ``range(n)``.

    The same ``n`` always gives the same split. Indices within a split are sorted, so rows keep their
    file order.
    """
    permutation = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_valid = round(n * VALID_FRACTION)
    n_test = round(n * TEST_FRACTION)
    n_train = n - n_valid - n_test
    return {
        "train": np.sort(permutation[:n_train]),
        "valid": np.sort(permutation[n_train : n_train + n_valid]),
        "test": np.sort(permutation[n_train + n_valid :]),
    }


def split_rows(n: int, split: str, source: str, unit: str, fix: str) -> np.ndarray | None:
    """The rows of ``split`` among ``n`` under :func:`random_split_indices` (None for ``all``: every row); a
    one-line error naming ``source`` when the split is empty, with ``fix`` as the advice."""
    if split == "all":
        return None
    index = random_split_indices(n)[split]
    if index.size == 0:
        raise UserError(
            f"{source}: split {split!r} is empty ({n} {unit} are too few for an 80/10/10 split); "
            f"give at least 10 {unit}, {fix}"
        )
    return index


def take_random_split(dataset: ArrayDataset, split: str) -> ArrayDataset:
    """The rows of ``split`` under :func:`random_split_indices`; ``all`` gives the dataset unchanged."""
    fix = (
        "or an .npz with its own train/valid/test arrays (eval, encode and the other commands with --split can "
        "also read split 'all')"
    )
    index = split_rows(len(dataset), split, dataset.name, "rows", fix)
    return dataset if index is None else dataset.subset(index)


MAX_HELD_OUT = 10_000
"""The most rows :func:`hold_out` holds out: enough for a validation mean within a fraction of a percent, and
a large training file (MOSES: 1.58 M molecules) keeps the rest for training and a short validation pass."""


def hold_out(n: int, fraction: float = VALID_FRACTION) -> dict[str, np.ndarray]:
    """Disjoint ``train`` and ``valid`` row indices of ``range(n)``: ``valid`` a seeded random ``fraction`` held
    out, at most :data:`MAX_HELD_OUT` rows (for datasets published with a training file but no validation
    split). Sorted, so rows keep file order."""
    permutation = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_valid = min(round(n * fraction), MAX_HELD_OUT)
    return {"train": np.sort(permutation[n_valid:]), "valid": np.sort(permutation[:n_valid])}


def seeded_subset(n: int, size: int) -> np.ndarray:
    """A seeded random ``size`` of the rows ``range(n)`` (all of them when ``size >= n``), sorted. A smaller
    ``size`` picks a subset of a larger one's rows."""
    return np.sort(np.random.default_rng(SPLIT_SEED).permutation(n)[:size])
