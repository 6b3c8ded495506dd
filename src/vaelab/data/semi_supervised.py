"""Labels known for some rows only: scikit-learn's semi-supervised convention, ``-1`` marks an unlabelled row
(as in ``SelfTrainingClassifier`` and ``LabelSpreading``), and the balanced, seeded choice of which labels to
keep for experiments (``--num-labelled N``)."""

from __future__ import annotations

import numpy as np

from vaelab.errors import UserError

UNLABELLED = -1
"""The label of a row whose class is not known."""


def is_labelled(y: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the rows of class labels ``y`` whose class is known."""
    return np.asarray(y) != UNLABELLED


def is_semi_supervised(y: np.ndarray | None) -> bool:
    """Whether ``y`` are class labels (``(N,)`` integers) some of which are unknown."""
    return y is not None and y.ndim == 1 and y.dtype.kind in "iu" and bool((y == UNLABELLED).any())


def keep_labelled(y: np.ndarray, num_labelled: int, seed: int, num_classes: int | None = None) -> np.ndarray:
    """A copy of class labels ``y (N,)`` in which only ``num_labelled`` rows keep their label and the rest are
    ``UNLABELLED``: drawn with ``seed`` among the labelled rows, balanced across classes (``num_labelled // K``
    per class, the remainder one each to classes drawn at random), as Kingma et al. 2014 (§4.1) draw theirs."""
    y = np.asarray(y)
    known = np.flatnonzero(is_labelled(y))
    classes = np.unique(y[known]) if num_classes is None else np.arange(num_classes)
    if num_labelled < len(classes):
        raise UserError(
            f"--num-labelled {num_labelled} keeps fewer labels than the {len(classes)} classes; keep at least one "
            "per class"
        )
    if num_labelled > len(known):
        raise UserError(f"--num-labelled {num_labelled} asks for more labels than the {len(known)} the data hold")
    rng = np.random.default_rng(seed)
    per_class = np.full(len(classes), num_labelled // len(classes))
    per_class[rng.choice(len(classes), num_labelled % len(classes), replace=False)] += 1
    kept = []
    for cls, count in zip(classes, per_class, strict=True):
        rows = known[y[known] == cls]
        if count > len(rows):
            raise UserError(
                f"--num-labelled {num_labelled}: class {cls} has {len(rows)} labelled rows, fewer than the {count} a "
                "balanced draw keeps; ask for fewer labels"
            )
        kept.append(rng.choice(rows, count, replace=False))
    out = np.full_like(y, UNLABELLED)
    index = np.concatenate(kept)
    out[index] = y[index]
    return out


def check_class_labels(y: np.ndarray | None, what: str) -> None:
    """A one-line ``UserError`` unless a model learning to classify (``what`` names it) can learn from labels ``y``:
    there are none, no row is labelled, or the labelled rows hold one class."""
    if y is None:
        raise UserError(f"{what} learns from class labels: give the data a label column (--labels COLUMN)")
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise UserError(f"{what} learns class labels (N,) integers, not condition vectors of shape {y.shape}")
    if (y < UNLABELLED).any():
        value = int(y[y < UNLABELLED][0])
        raise UserError(f"label {value}: class labels are 0..K-1, and {UNLABELLED} marks an unlabelled row")
    known = y[is_labelled(y)]
    if known.size == 0:
        raise UserError(
            f"no row is labelled ({UNLABELLED} everywhere): {what} needs a label for some rows of every class"
        )
    classes = np.unique(known)
    if len(classes) < 2:
        raise UserError(f"the labelled rows hold only class {classes[0]}: {what} needs at least two classes")


def labelled_count(y: np.ndarray | None, num_rows: int) -> int:
    """How many of ``num_rows`` rows carry a label: the class labels other than ``UNLABELLED``; every row for
    condition vectors; none without labels."""
    if y is None:
        return 0
    if y.ndim == 1 and y.dtype.kind in "iu":
        return int(is_labelled(y).sum())
    return num_rows
