"""A dataset as model inputs, one bounded chunk at a time, and summaries of per-example values."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.models import VAE

EVAL_BATCH = 1000


def model_batches(
    model: VAE, data: ArrayDataset, batch_size: int = EVAL_BATCH
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """``(x, y)`` chunks in data order on the model's device: x in model space ``(b, *shape)``, y the
    condition for a conditional model (else None)."""
    device = next(model.parameters()).device
    for start in range(0, len(data), batch_size):
        rows = slice(start, start + batch_size)
        x = to_model_space(torch.from_numpy(data.x[rows]), data.levels).to(device)
        y = None if data.y is None or not model.is_conditional else torch.from_numpy(data.y[rows]).to(device)
        yield x, y


def stored_rows_encoder(model: VAE, levels: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function from rows as a dataset stores them (e.g. uint8 images with ``levels``) to their posterior
    means ``(B, D)`` as a NumPy array: the encoder the disentanglement scores call on generated batches."""
    device = next(model.parameters()).device

    def encode(rows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.embed(to_model_space(torch.from_numpy(rows), levels).to(device)).cpu().numpy()

    return encode


def mean_and_stderr(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN for a single value)."""
    n = len(values)
    stderr = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return float(values.mean()), stderr
