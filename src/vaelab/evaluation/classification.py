"""How well a model with a classifier q(y|x) (Kingma et al. 2014, M2) predicts classes: the accuracy of
``argmax_y q(y|x)`` on the rows of a split whose class is known (rows labelled ``-1`` are left out), per class,
and the confusion matrix. The classifier reads x only, so no label enters a prediction."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vaelab.data.batch import dataset_batches
from vaelab.data.dataset import ArrayDataset
from vaelab.data.semi_supervised import is_labelled
from vaelab.errors import UserError
from vaelab.evaluation.inputs import EVAL_BATCH, model_device
from vaelab.models import VAE


@torch.inference_mode()
def predicted_classes(model: VAE, data: ArrayDataset) -> np.ndarray:
    """``argmax_y q(y|x)`` for every row of ``data``, int64 ``(N,)`` in data order (observed entries only)."""
    batches = dataset_batches(data, EVAL_BATCH, model_device(model))
    return np.concatenate([model.predicted_classes(batch.x, batch.mask).cpu().numpy() for batch in batches])


def classification_figures(model: VAE, data: ArrayDataset) -> dict[str, Any]:
    """``accuracy`` (a fraction) of ``argmax_y q(y|x)`` on the labelled rows of ``data``, ``accuracy_rows`` (how
    many were scored), ``accuracy_per_class`` (None for a class with no labelled row) and ``confusion_matrix``
    (``[true][predicted]`` counts, K x K)."""
    num_classes = model.num_classes
    if model.classifier is None or num_classes is None:
        raise UserError("the accuracy metric needs a model with a classifier q(y|x): train one with --model m2")
    if data.y is None or data.y.ndim != 1:
        raise UserError(f"the accuracy metric needs class labels; {data.name} has none (pass --labels COLUMN)")
    rows = np.flatnonzero(is_labelled(data.y))
    if len(rows) == 0:
        raise UserError(f"the accuracy metric needs labelled rows; every row of {data.name} is unlabelled (-1)")
    labels = data.y[rows]
    if labels.max() >= num_classes:
        raise UserError(f"label {labels.max()} of {data.name} is outside the model's classes 0..{num_classes - 1}")
    predicted = predicted_classes(model, data.subset(rows))
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)  # (K, K): true class, predicted class
    np.add.at(confusion, (labels, predicted), 1)
    per_class_rows = confusion.sum(1)
    per_class = [
        None if count == 0 else float(confusion[k, k] / count) for k, count in enumerate(per_class_rows.tolist())
    ]
    return {
        "accuracy": float(np.trace(confusion) / len(rows)),
        "accuracy_rows": len(rows),
        "accuracy_per_class": per_class,
        "confusion_matrix": confusion.tolist(),
    }
