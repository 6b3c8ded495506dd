"""The pictures every image run gets: samples, reconstructions, interpolation strips, the latent grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaelab.applications.imputation.importance import conditional_mean, resampled_imputations
from vaelab.applications.imputation.quadrants import observed_quadrants
from vaelab.data.batch import Batch, dataset_rows
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.report.images import save_png

STEPS = 10
METHODS = ("lerp", "slerp")


def pick_examples(
    data: ArrayDataset, n: int, seed: int = 0, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` examples drawn at random with a fixed seed (never the first rows, which may be sorted by
    class), in model space on ``device``, with their labels or conditions (None when the data have none)."""
    index = np.sort(np.random.default_rng(seed).choice(len(data), size=min(n, len(data)), replace=False))
    batch = dataset_rows(data, index, device)
    return batch.x, batch.y


def sample_images(model: VAE, n: int = 64) -> tuple[np.ndarray, int]:
    """Samples, or for a class-conditional model one row per class; returns (images, columns)."""
    if model.num_classes:
        per_class = 10
        labels = torch.arange(model.num_classes, device=model_device(model)).repeat_interleave(per_class)
        return model.sample(len(labels), y=labels).cpu().numpy(), per_class
    return model.sample(n).cpu().numpy(), 8


def reconstruction_pair(model: VAE, data: ArrayDataset, n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """``n`` inputs and their reconstructions E[x | z = E_q[z|x]], each ``(n, *data_shape)``."""
    x, y = pick_examples(data, n, device=model_device(model))
    x_hat = model.reconstruct(x, y if model.is_conditional else None)
    return x.cpu().numpy(), x_hat.cpu().numpy()


def reconstruction_images(model: VAE, data: ArrayDataset, n: int = 16) -> tuple[np.ndarray, int]:
    """Inputs on odd rows, their reconstructions on the row below."""
    x, x_hat = reconstruction_pair(model, data, n)
    cols = 8
    rows = []
    for start in range(0, len(x), cols):
        rows += [x[start : start + cols], x_hat[start : start + cols]]
    return np.concatenate(rows), cols


def inpainting_images(model: VAE, data: ArrayDataset, n: int = 8, draws: int = 4) -> tuple[np.ndarray, int]:
    """For ``n`` examples with only their left half observed, one row each: the observed half (the hidden half
    grey), the truth, the conditional mean E[x_m | x_o] and ``draws`` draws from p(x_m | x_o) by sampling
    importance resampling (:mod:`vaelab.applications.imputation`)."""
    x, y = pick_examples(data, n, seed=3, device=model_device(model))
    y = y if model.is_conditional else None
    observed = observed_quadrants(model.data_shape, 2).to(x.device).expand_as(x)
    batch = Batch(x, y, mask=observed.clone())
    mean = conditional_mean(model, batch, num_samples=500)
    sampled = resampled_imputations(model, batch, draws, num_samples=500)  # (draws, n, *shape)
    shown = torch.where(observed, x, 0.5)
    rows = torch.stack([shown, x, mean, *sampled], dim=1)  # (n, 3 + draws, *shape)
    return rows.flatten(0, 1).cpu().numpy(), 3 + draws


def interpolation_images(
    model: VAE, data: ArrayDataset, pairs: int = 3, methods: tuple[str, ...] = METHODS
) -> tuple[np.ndarray, int]:
    """For each pair of examples one row of ``STEPS`` decoded points per method (lerp, slerp)."""
    x, y = pick_examples(data, 2 * pairs, seed=1, device=model_device(model))
    rows = []
    for i in range(0, 2 * pairs, 2):
        label = None if not model.is_conditional or y is None else y[i : i + 1]
        for method in methods:
            rows.append(model.interpolate(x[i], x[i + 1], STEPS, method, y=label).cpu().numpy())
    return np.concatenate(rows), STEPS


@torch.inference_mode()
def latent_grid_images(model: VAE, n: int = 15, y: torch.Tensor | None = None) -> tuple[np.ndarray, int]:
    """Decode an ``n x n`` grid of 2-D latent codes; returns (images, columns).

    As in Kingma & Welling 2014 (figure 4), evenly spaced points of the unit square are mapped through
    the inverse CDF of the standard normal, so the grid covers the prior with equal mass per cell (from
    the 1/(2n) to the 1 - 1/(2n) quantile). Rows go from high z_1 (top) to low; columns from low z_0 to
    high. ``y: (1, ...)`` is the condition of a conditional model, used for every picture.
    """
    if model.latent_dim != 2:
        raise ValueError(f"the latent grid needs a 2-D latent space, the model has {model.latent_dim}")
    u = (torch.arange(n, dtype=torch.float32, device=model_device(model)) + 0.5) / n
    values = torch.special.ndtri(u)  # (n,) standard normal quantiles
    z1, z0 = torch.meshgrid(values.flip(0), values, indexing="ij")
    z = torch.stack([z0.reshape(-1), z1.reshape(-1)], dim=-1)  # (n * n, 2)
    y_all = None if y is None else y.expand(len(z), *y.shape[1:])
    return model.decode(z, y_all).mean.cpu().numpy(), n


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
