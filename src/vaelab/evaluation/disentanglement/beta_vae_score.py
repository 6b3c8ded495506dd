"""The BetaVAE disentanglement score (Higgins et al. 2017, "β-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework", §3 and Appendix A.4).

One training point: pick a factor k uniformly; draw ``batch_size`` pairs of factor vectors that agree
on factor k and are independent otherwise; encode both sides of every pair; the feature is the mean
absolute difference of the codes, z_diff = (1/L) Σ_l |z_l^(1) - z_l^(2)|, and the label is k. A linear
classifier trained on such points predicts k well when some code dimension ignores everything but k.
The score is the classifier's accuracy on fresh points.

Estimator pinned as in disentanglement_lib (Locatello et al. 2019, ``beta_vae.py``): codes are the
latent *means*; ``batch_size = 64`` pairs per point, ``num_train = 10,000`` and ``num_eval = 5,000``
points; the classifier is ``sklearn.linear_model.LogisticRegression`` with default regularisation
(C = 1) on the raw features, ``max_iter`` raised to 1,000 so lbfgs converges. The points are drawn in
chunks so ``encode`` sees at most ``chunk_size`` observations per call.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from sklearn.linear_model import LogisticRegression

from vaelab.evaluation.disentanglement._validation import check_positive
from vaelab.evaluation.disentanglement.oracle import Encoder, FactorOracle, encode_factors


class BetaVAEScores(TypedDict):
    beta_vae_score: float
    train_accuracy: float


def _draw_points(
    oracle: FactorOracle,
    encode: Encoder,
    num_points: int,
    batch_size: int,
    rng: np.random.Generator,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``num_points`` features z_diff (num_points, D) and their fixed-factor labels (num_points,)."""
    labels = rng.integers(len(oracle.factor_sizes), size=num_points)
    points_per_chunk = max(1, chunk_size // (2 * batch_size))
    features = []
    for start in range(0, num_points, points_per_chunk):
        fixed = np.repeat(labels[start : start + points_per_chunk], batch_size)  # (m * L,)
        first = oracle.sample_factors(fixed.size, rng)
        second = oracle.sample_factors(fixed.size, rng)
        rows = np.arange(fixed.size)
        second[rows, fixed] = first[rows, fixed]  # each pair agrees on its point's factor
        codes = encode_factors(oracle, encode, np.concatenate([first, second]), chunk_size)
        pairs = codes.reshape(2, -1, batch_size, codes.shape[1])  # (2, m, L, D)
        features.append(np.abs(pairs[0] - pairs[1]).mean(axis=1))  # (m, D)
    return np.concatenate(features), labels


def beta_vae_score(
    oracle: FactorOracle,
    encode: Encoder,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    chunk_size: int = 4096,
    seed: int = 0,
) -> BetaVAEScores:
    """BetaVAE score of ``encode`` on data from ``oracle``: held-out accuracy in [0, 1], chance is 1/K."""
    check_positive(batch_size=batch_size, num_train=num_train, num_eval=num_eval, chunk_size=chunk_size)
    rng = np.random.default_rng(seed)
    train_features, train_labels = _draw_points(oracle, encode, num_train, batch_size, rng, chunk_size)
    eval_features, eval_labels = _draw_points(oracle, encode, num_eval, batch_size, rng, chunk_size)
    classifier = LogisticRegression(max_iter=1000)
    classifier.fit(train_features, train_labels)
    return {
        "beta_vae_score": float(classifier.score(eval_features, eval_labels)),
        "train_accuracy": float(classifier.score(train_features, train_labels)),
    }
