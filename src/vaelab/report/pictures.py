"""The pictures every image run gets: samples, reconstructions and interpolation strips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.models import VAE
from vaelab.report.images import save_png

STEPS = 10


def _pick(data: ArrayDataset, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    index = np.sort(np.random.default_rng(seed).choice(len(data), size=min(n, len(data)), replace=False))
    x = to_model_space(torch.from_numpy(data.x[index]), data.levels)
    y = None if data.y is None else torch.from_numpy(data.y[index])
    return x, y


def sample_images(model: VAE, n: int = 64) -> tuple[np.ndarray, int]:
    """Samples, or for a class-conditional model one row per class; returns (images, columns)."""
    if model.num_classes:
        per_class = 10
        labels = torch.arange(model.num_classes).repeat_interleave(per_class)
        return model.sample(len(labels), y=labels).numpy(), per_class
    return model.sample(n).numpy(), 8


def reconstruction_images(model: VAE, data: ArrayDataset, n: int = 16) -> tuple[np.ndarray, int]:
    """Inputs on odd rows, their reconstructions on the row below."""
    x, y = _pick(data, n)
    x_hat = model.reconstruct(x, None if not model.is_conditional else y)
    cols = 8
    rows = []
    for start in range(0, len(x), cols):
        rows += [x[start : start + cols].numpy(), x_hat[start : start + cols].numpy()]
    return np.concatenate(rows), cols


def interpolation_images(model: VAE, data: ArrayDataset, pairs: int = 3) -> tuple[np.ndarray, int]:
    """For each pair of examples one lerp row and one slerp row of ``STEPS`` decoded points."""
    x, y = _pick(data, 2 * pairs, seed=1)
    rows = []
    for i in range(0, 2 * pairs, 2):
        label = None if not model.is_conditional or y is None else y[i : i + 1]
        for method in ("lerp", "slerp"):
            rows.append(model.interpolate(x[i], x[i + 1], STEPS, method, y=label).numpy())
    return np.concatenate(rows), STEPS


def write_pictures(model: VAE, data: ArrayDataset, directory: Path) -> list[Path]:
    """Write samples.png, reconstructions.png and interpolation.png for image data; nothing otherwise."""
    if not data.is_image:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (images, cols) in {
        "samples.png": sample_images(model),
        "reconstructions.png": reconstruction_images(model, data),
        "interpolation.png": interpolation_images(model, data),
    }.items():
        save_png(directory / name, images, cols)
        written.append(directory / name)
    return written
