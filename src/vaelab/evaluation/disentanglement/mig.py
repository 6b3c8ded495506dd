"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", §4.1).

    MIG = (1/K) Σ_k [ I(z_{j(k)}; v_k) - max_{j ≠ j(k)} I(z_j; v_k) ] / H(v_k),   j(k) = argmax_j I(z_j; v_k)

Estimator pinned as in disentanglement_lib (Locatello et al. 2019, ``mig.py`` and
``utils._histogram_discretize``), which is the "discrete MIG" of their study:

- codes are the latent *means* (not samples), one row per example;
- each code dimension is discretised separately into ``num_bins = 20`` equal-width bins spanning its
  observed range (``np.digitize`` on the ``np.histogram`` edges);
- I(z_j; v_k) is the plug-in mutual information of the discretised code and the factor
  (``sklearn.metrics.mutual_info_score``, nats), and H(v_k) the plug-in entropy of the factor
  (``mutual_info_score(v_k, v_k)``), both on all N examples.

Equal-width bins make the score depend on the shape of each code's marginal: an affine map of a code
leaves it unchanged, a strongly nonlinear monotone one (e.g. ``exp``) can merge values into one bin.
The plug-in MI is biased upwards by about (bins - 1)(|v_k| - 1) / (2N) nats, so use N ≥ 10,000 for
published numbers (disentanglement_lib uses 10,000).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from sklearn.metrics import mutual_info_score

from vaelab.evaluation.disentanglement._top_two_gap import top_two_gap
from vaelab.evaluation.disentanglement._validation import check_codes_and_factors, check_positive


class MIGScores(TypedDict):
    mig: float
    mig_per_factor: list[float]


def histogram_discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Bin each column of ``codes`` (N, D) into ``num_bins`` equal-width bins over its range -> int (N, D)."""
    binned = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], bins=num_bins)[1]
        binned[:, j] = np.digitize(codes[:, j], edges[:-1])
    return binned


def mig(codes: np.ndarray, factors: np.ndarray, *, num_bins: int = 20) -> MIGScores:
    """MIG of latent means ``codes`` (N, D) against integer ``factors`` (N, K); in [0, 1], higher is better.

    Returns the mean over factors (``mig``) and each factor's normalised gap (``mig_per_factor``).
    """
    codes, factors = check_codes_and_factors(codes, factors)
    check_positive(num_bins=num_bins)
    binned = histogram_discretize(codes, num_bins)
    num_codes, num_factors = codes.shape[1], factors.shape[1]
    mutual_info = np.array(
        [[mutual_info_score(factors[:, k], binned[:, j]) for k in range(num_factors)] for j in range(num_codes)]
    )  # (D, K), nats
    entropy = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(num_factors)])
    per_factor = top_two_gap(mutual_info) / entropy
    return {"mig": float(per_factor.mean()), "mig_per_factor": [float(g) for g in per_factor]}
