"""Figures the report computes from the model on a bounded subset of the data: posterior means, the
per-example ELBO and the KL per latent dimension, plus the 2-D projection of the means."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaelab.data.batch import dataset_rows
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.inputs import model_device
from vaelab.evaluation.latent import summed_kl_per_dim
from vaelab.models import VAE

CHUNK = 500  # examples per encoder call: keeps memory bounded for convolutional models on large images


@dataclass(frozen=True)
class LatentAnalysis:
    codes: np.ndarray  # (N, D) posterior means E_q[z|x]
    labels: np.ndarray | None  # (N,) integer class labels, when the data have them
    elbo: np.ndarray  # (N,) per-example ELBO in nats, one posterior sample each
    kl_per_dim: np.ndarray | None  # (D,) mean KL(q(z_d|x) || p(z_d)) in nats; None if it does not factorise


@torch.inference_mode()
def analyse(model: VAE, data: ArrayDataset) -> LatentAnalysis:
    """Encode every example of ``data`` (the caller bounds its size) in chunks."""
    batch = dataset_rows(data, np.arange(len(data)), model_device(model))
    codes, elbo = [], []
    for start in range(0, len(batch), CHUNK):
        part = batch.rows(start, start + CHUNK)
        codes.append(model.embed(part.x, part.y).cpu().numpy())
        elbo.append(model.elbo(part).cpu().numpy())
    kl = mean_kl_per_dimension(model, batch.x, batch.y)
    labels = data.y if data.y is not None and data.y.ndim == 1 else None
    return LatentAnalysis(
        codes=np.concatenate(codes),
        labels=labels,
        elbo=np.concatenate(elbo),
        kl_per_dim=None if kl is None else kl.cpu().numpy(),
    )


@torch.inference_mode()
def mean_kl_per_dimension(model: VAE, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor | None:
    """``E_x KL(q(z_d|x) || p(z_d))`` for each latent dimension d, ``(D,)`` in nats, over the examples
    ``x``. For a factorised posterior and prior these terms sum to the KL of the ELBO (Kingma & Welling
    2014, eq. 7); closed form where torch has one, else one Monte Carlo sample per example. None when the
    posterior or the prior does not factorise (a mixture or VampPrior prior): no per-dimension split exists.
    """
    p_z = model.p_z()
    total = torch.zeros(model.latent_dim, dtype=torch.float64, device=x.device)
    for start in range(0, len(x), CHUNK):
        q_z = model.encode(x[start : start + CHUNK], None if y is None else y[start : start + CHUNK])
        kl_sum = summed_kl_per_dim(q_z, p_z)  # (D,)
        if kl_sum is None:
            return None
        total += kl_sum
    return total / len(x)


def project_2d(codes: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """``(N, D)`` codes -> ``(N, 2)`` points and axis labels: the codes themselves when D = 2, otherwise
    the first two principal components (Pearson 1901), computed by the SVD of the centred codes."""
    if codes.shape[1] < 2:
        raise ValueError("a 2-D map needs at least two latent dimensions")
    if codes.shape[1] == 2:
        return codes, ("z0", "z1")
    centred = codes - codes.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # vt: (min(N, D), D)
    explained = singular**2 / max(float(np.sum(singular**2)), 1e-12)
    points = centred @ vt[:2].T  # (N, 2)
    return points, (f"PC1 ({explained[0]:.0%} of variance)", f"PC2 ({explained[1]:.0%} of variance)")
