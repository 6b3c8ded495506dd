"""Sample quality in a feature space: Fréchet distance and improved precision/recall.

Pure functions of two feature tables, ``real`` (N, F) and ``fake`` (M, F), e.g. the penultimate layer
of the reference classifier (:mod:`vaelab.evaluation.reference_classifier`).

- **Fréchet distance** between Gaussians fitted to the two tables (Dowson & Landau 1982; the FID of
  Heusel et al. 2017 in the Inception feature space):

      d² = ||μ_r - μ_g||² + Tr(Σ_r + Σ_g - 2 (Σ_r Σ_g)^{1/2})

  ``Tr (Σ_r Σ_g)^{1/2}`` is computed as ``Σ_i sqrt(λ_i)`` with λ the eigenvalues of the symmetric
  positive semi-definite ``Σ_r^{1/2} Σ_g Σ_r^{1/2}``, which has the same spectrum as ``Σ_r Σ_g``; this
  stays real and stable when the covariances are singular (N < F). Lower is better; 0 for equal moments.
- **Precision and recall** (Kynkäänniemi et al. 2019, "Improved precision and recall metric for assessing
  generative models", eqs. 1-3): each set's manifold is the union of balls around its points with radius
  the distance to the point's k-th nearest neighbour in the same set (k = 3 as in the paper).
  precision = fraction of fake points inside the real manifold; recall = fraction of real points inside
  the fake manifold. Both in [0, 1], higher is better.
"""

from __future__ import annotations

import numpy as np
import torch

NEIGHBOURS = 3
ROW_CHUNK = 512
"""Rows of a distance matrix held at once (memory ~ ROW_CHUNK x N float64)."""


def _check_features(**tables: np.ndarray) -> None:
    widths = set()
    for name, table in tables.items():
        if table.ndim != 2 or len(table) < 2:
            raise ValueError(f"{name} must be a feature table (N >= 2, F), got shape {table.shape}")
        if not np.isfinite(table).all():
            raise ValueError(f"{name} holds NaN or infinite features")
        widths.add(table.shape[1])
    if len(widths) != 1:
        raise ValueError(f"feature tables have different widths {sorted(widths)}")


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative round-off clipped)."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


def frechet_distance_from_moments(mu_r: np.ndarray, cov_r: np.ndarray, mu_g: np.ndarray, cov_g: np.ndarray) -> float:
    """d² between N(mu_r, cov_r) and N(mu_g, cov_g) (module docstring)."""
    root_r = _sqrt_psd(cov_r)
    cross = root_r @ cov_g @ root_r
    trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((cross + cross.T) / 2), 0, None)).sum())
    distance = float(np.sum((mu_r - mu_g) ** 2) + np.trace(cov_r) + np.trace(cov_g) - 2 * trace_sqrt)
    return max(distance, 0.0)


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted (mean, unbiased covariance) to ``real`` and ``fake``."""
    _check_features(real=real, fake=fake)
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    return frechet_distance_from_moments(
        real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False)
    )


def knn_radii(features: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Distance from each point to its k-th nearest neighbour in the same table, (N,) (self excluded)."""
    if not 1 <= k < len(features):
        raise ValueError(f"k must be in [1, {len(features) - 1}] for {len(features)} points, not {k}")
    table = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float64))
    radii = [
        torch.cdist(table[s : s + ROW_CHUNK], table).topk(k + 1, dim=1, largest=False).values[:, k]  # self is 0
        for s in range(0, len(table), ROW_CHUNK)
    ]
    return torch.cat(radii).numpy()


def manifold_coverage(query: np.ndarray, reference: np.ndarray, radii: np.ndarray) -> float:
    """Fraction of ``query`` points within ``radii[j]`` of at least one ``reference`` point j."""
    points = torch.from_numpy(np.ascontiguousarray(reference, dtype=np.float64))
    radius = torch.from_numpy(np.asarray(radii, dtype=np.float64))
    queries = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float64))
    inside = [
        (torch.cdist(queries[s : s + ROW_CHUNK], points) <= radius).any(dim=1)
        for s in range(0, len(queries), ROW_CHUNK)
    ]
    return float(torch.cat(inside).double().mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = NEIGHBOURS) -> dict[str, float]:
    """Improved ``precision`` and ``recall`` of ``fake`` against ``real`` (module docstring)."""
    _check_features(real=real, fake=fake)
    return {
        "precision": manifold_coverage(fake, real, knn_radii(real, k)),
        "recall": manifold_coverage(real, fake, knn_radii(fake, k)),
    }
