"""The labels a user gives :class:`VAEClassifier` <-> the class indices 0..K-1 the model learns.

scikit-learn's semi-supervised convention: the number -1 marks an unlabelled row (``SelfTrainingClassifier``,
``LabelSpreading``); every other value is a class. Classes may be numbers or text; text labels with
unlabelled rows are an object array holding the strings and -1, as scikit-learn asks for them. The errors are
``InvalidInput`` (a ``UserError`` and a ``ValueError``, the type scikit-learn's conventions expect).
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from vaelab.applications.anomaly.validation import InvalidInput
from vaelab.data.semi_supervised import UNLABELLED


def unlabelled_rows(y: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the rows of labels ``y (N,)`` that hold the number -1 (text labels never do)."""
    if y.dtype.kind in "iuf":
        return np.asarray(y == UNLABELLED)
    if y.dtype.kind == "O":
        return np.array([_is_unlabelled(value) for value in y], dtype=bool)
    return np.zeros(len(y), dtype=bool)


def _is_unlabelled(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and value == UNLABELLED


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``y (N,)`` -> ``(codes, classes)``: ``codes (N,)`` int64, the index of each row's class in the
    sorted distinct labels ``classes (K,)`` or -1 for an unlabelled row. One-line errors when no row is
    labelled, the labelled rows hold one class, or the labels are not classes (non-integral numbers, NaN)."""
    unlabelled = unlabelled_rows(y)
    known = y[~unlabelled]
    if known.size == 0:
        raise InvalidInput(
            "no row of y is labelled (-1 everywhere): VAEClassifier needs a label for some rows of every class"
        )
    try:
        classes = np.unique(known)
    except TypeError:  # numbers and text mixed
        raise InvalidInput(
            "y mixes numbers and text among its classes; give every class as a number or every class as text "
            "(-1 marks an unlabelled row either way)"
        ) from None
    check_classification_targets(known)  # "Unknown label type: ..." for continuous values, NaN
    if len(classes) < 2:
        raise InvalidInput(
            f"the labelled rows of y hold one class ({classes.tolist()[0]!r}): VAEClassifier needs at least two classes"
        )
    codes = np.full(len(y), UNLABELLED, dtype=np.int64)
    codes[~unlabelled] = np.searchsorted(classes, known)
    return codes, classes


def class_indices(classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The indices ``(N,)`` int64 in ``classes`` of ``labels (N,)``; a one-line error naming a label that is not
    one of the classes (-1 included: it marks an unlabelled row, not a class)."""
    lookup = {label: k for k, label in enumerate(classes.tolist())}
    index = np.empty(len(labels), dtype=np.int64)
    for row, label in enumerate(labels.tolist()):
        if _is_unlabelled(label) or label not in lookup:
            shown = ", ".join(repr(c) for c in classes.tolist())
            raise InvalidInput(f"{label!r} is not a class the classifier was fitted on ({shown})")
        index[row] = lookup[label]
    return index
