"""Likelihood figures of a model on a dataset: ELBO and its terms, importance-sampled log p(x)."""

from __future__ import annotations

import math

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.models import VAE

EVAL_BATCH = 1000


def _mean_and_stderr(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    stderr = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return float(values.mean()), stderr


@torch.inference_mode()
def evaluate_likelihood(model: VAE, data: ArrayDataset, num_samples: int = 1000) -> dict[str, float]:
    """Per-example means in nats (and standard errors): ``elbo``, ``reconstruction``, ``kl`` from one
    posterior sample, and ``nll`` = -log p(x) importance-sampled with ``num_samples`` samples."""
    device = next(model.parameters()).device
    per_example: dict[str, list[np.ndarray]] = {"elbo": [], "reconstruction": [], "kl": [], "nll": []}
    for start in range(0, len(data), EVAL_BATCH):
        x = to_model_space(torch.from_numpy(data.x[start : start + EVAL_BATCH]), data.levels).to(device)
        y = (
            None
            if data.y is None or not model.is_conditional
            else torch.from_numpy(data.y[start : start + EVAL_BATCH]).to(device)
        )
        out = model(x, y)
        reconstruction, kl = out.log_p_x.mean(0), out.kl()
        per_example["reconstruction"].append(reconstruction.cpu().numpy())
        per_example["kl"].append(kl.cpu().numpy())
        per_example["elbo"].append((reconstruction - kl).cpu().numpy())
        per_example["nll"].append((-model.log_likelihood(x, y, num_samples)).cpu().numpy())
    result: dict[str, float] = {}
    for name, chunks in per_example.items():
        result[name], result[f"{name}_stderr"] = _mean_and_stderr(np.concatenate(chunks).astype(np.float64))
    result["num_examples"] = len(data)
    result["num_samples"] = num_samples
    return result
