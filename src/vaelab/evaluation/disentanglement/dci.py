"""Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018, "A Framework for the
Quantitative Evaluation of Disentangled Representations", §2).

With an importance matrix R (D codes × K factors, R_ij = importance of code i for predicting factor j):

    P_ij = R_ij / Σ_k R_ik                     D_i = 1 - H_K(P_i·)  (entropy in base K)
    ρ_i  = Σ_j R_ij / Σ_ij R_ij                disentanglement = Σ_i ρ_i D_i
    P̃_ij = R_ij / Σ_i R_ij                     C_j = 1 - H_D(P̃_·j)  (entropy in base D)
    ρ̃_j  = Σ_i R_ij / Σ_ij R_ij                completeness    = Σ_j ρ̃_j C_j

Estimator pinned as in disentanglement_lib (Locatello et al. 2019, ``dci.py``):

- codes are the latent *means*; the examples are shuffled with ``seed`` and split into a training
  part and a held-out part of ``test_fraction`` (default 1/3: disentanglement_lib draws 10,000 train
  and 5,000 test points);
- for each factor one ``sklearn.ensemble.GradientBoostingClassifier`` (sklearn defaults: depth 3,
  learning rate 0.1, no subsampling; ``n_estimators`` trees per class, default 100 as in
  disentanglement_lib) is fitted on the training part; column j of R is its
  ``feature_importances_`` (mean impurity decrease);
- 1e-11 is added to R inside the entropies, and an all-zero R gets uniform weights ρ, ρ̃, so a
  representation that predicts nothing scores 0;
- informativeness is the held-out *accuracy* of those classifiers, averaged over factors (the paper
  reports prediction error, i.e. 1 - accuracy; higher is better here), and ``informativeness_train``
  the same on the training part.

Cost grows with N × classes × n_estimators (a 40-valued factor fits 40 trees per stage); lower
``n_estimators`` for quick looks and keep 100 for numbers to compare with published ones.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

from vaelab.evaluation.disentanglement._validation import (
    check_codes_and_factors,
    check_fraction,
    check_positive,
)

_EPS = 1e-11  # added to the importances inside the entropies, as disentanglement_lib does


class DCIScores(TypedDict):
    disentanglement: float
    completeness: float
    informativeness: float
    informativeness_train: float


def _one_minus_entropy(weights: np.ndarray) -> np.ndarray:
    """1 - H_n(p) per column of ``weights`` (n, m), p the column normalised, entropy in base n.

    A single row (n = 1) leaves nothing to spread over: every column scores 1.
    """
    if weights.shape[0] == 1:
        return np.ones(weights.shape[1])
    return 1.0 - entropy(weights + _EPS, base=weights.shape[0])


def disentanglement_from_importance(importance: np.ndarray) -> float:
    """Σ_i ρ_i (1 - H_K(P_i·)) for an importance matrix (D codes, K factors)."""
    per_code = _one_minus_entropy(importance.T)  # (D,)
    weights = importance if importance.sum() > 0 else np.ones_like(importance)
    code_weight = weights.sum(axis=1) / weights.sum()
    return float(np.clip(np.sum(per_code * code_weight), 0.0, 1.0))  # round-off can leave -1e-16


def completeness_from_importance(importance: np.ndarray) -> float:
    """Σ_j ρ̃_j (1 - H_D(P̃_·j)) for an importance matrix (D codes, K factors)."""
    per_factor = _one_minus_entropy(importance)  # (K,)
    weights = importance if importance.sum() > 0 else np.ones_like(importance)
    factor_weight = weights.sum(axis=0) / weights.sum()
    return float(np.clip(np.sum(per_factor * factor_weight), 0.0, 1.0))


def dci(
    codes: np.ndarray,
    factors: np.ndarray,
    *,
    test_fraction: float = 1 / 3,
    n_estimators: int = 100,
    seed: int = 0,
) -> DCIScores:
    """DCI scores of latent means ``codes`` (N, D) against integer ``factors`` (N, K); all in [0, 1]."""
    codes, factors = check_codes_and_factors(codes, factors)
    check_fraction("test_fraction", test_fraction)
    check_positive(n_estimators=n_estimators)
    codes_train, codes_test, factors_train, factors_test = train_test_split(
        codes, factors, test_size=test_fraction, random_state=seed
    )
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    train_accuracy, test_accuracy = [], []
    for k in range(factors.shape[1]):
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=seed)
        model.fit(codes_train, factors_train[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        train_accuracy.append(np.mean(model.predict(codes_train) == factors_train[:, k]))
        test_accuracy.append(np.mean(model.predict(codes_test) == factors_test[:, k]))
    return {
        "disentanglement": disentanglement_from_importance(importance),
        "completeness": completeness_from_importance(importance),
        "informativeness": float(np.mean(test_accuracy)),
        "informativeness_train": float(np.mean(train_accuracy)),
    }
