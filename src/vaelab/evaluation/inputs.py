"""Where a model lives, stored rows as codes, and summaries of per-example values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from vaelab.data.dataset import to_model_space
from vaelab.models import VAE

EVAL_BATCH = 1000


def model_device(model: VAE) -> torch.device:
    return next(model.parameters()).device


def stored_rows_encoder(model: VAE, levels: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function from rows as a dataset stores them (e.g. uint8 images with ``levels``) to their posterior
    means ``(B, D)`` as a NumPy array: the encoder the disentanglement scores call on generated batches."""
    device = model_device(model)

    def encode(rows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.embed(to_model_space(torch.from_numpy(rows), levels).to(device)).cpu().numpy()

    return encode


def mean_and_stderr(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN for a single value)."""
    n = len(values)
    stderr = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return float(values.mean()), stderr
