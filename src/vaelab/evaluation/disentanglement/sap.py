"""Separated Attribute Predictability (Kumar et al. 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations", §3).

A score matrix S (D codes × K factors) holds how well factor k is predicted from code dimension j
alone; for each factor, the gap between its two best-predicting dimensions is averaged:

    SAP = (1/K) Σ_k [ S_{(1),k} - S_{(2),k} ]   (S_{(1),k} ≥ S_{(2),k} the two largest entries of column k)

Estimator pinned as in disentanglement_lib (Locatello et al. 2019, ``sap_score.py``):

- codes are the latent *means*; the examples are shuffled with ``seed`` and split into a training
  part and a held-out part of ``test_fraction`` (default 1/3: disentanglement_lib draws 10,000 train
  and 5,000 test points);
- ``continuous_factors=False`` (the default, and disentanglement_lib's setting for its study): S_jk is
  the held-out accuracy of ``sklearn.svm.LinearSVC(C=0.01, class_weight="balanced")`` fitted on the
  single feature z_j of the training part. A linear classifier on one feature separates two classes
  well but not many ordered ones, so even a perfect code scores well below 1 for many-valued factors;
- ``continuous_factors=True`` (the paper's regression case): S_jk is the R² of a linear fit of v_k on
  z_j, i.e. the squared Pearson correlation Cov(z_j, v_k)² / (Var z_j Var v_k), computed on the
  training part; a constant code dimension (variance ≤ 1e-12) scores 0.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from vaelab.evaluation.disentanglement._top_two_gap import top_two_gap
from vaelab.evaluation.disentanglement._validation import check_codes_and_factors, check_fraction

_MIN_VARIANCE = 1e-12  # a code dimension with less variance predicts nothing (R² taken as 0)


class SAPScores(TypedDict):
    sap: float
    sap_per_factor: list[float]


def _squared_correlations(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Cov(z_j, v_k)² / (Var z_j Var v_k) for every pair -> (D, K); 0 for near-constant z_j."""
    codes = codes - codes.mean(axis=0)
    factors = factors - factors.mean(axis=0)
    n = codes.shape[0]
    covariance = codes.T @ factors / (n - 1)  # (D, K)
    code_variance = codes.var(axis=0, ddof=1)  # (D,)
    factor_variance = factors.var(axis=0, ddof=1)  # (K,)
    active = code_variance > _MIN_VARIANCE
    scores = np.zeros_like(covariance)
    scores[active] = covariance[active] ** 2 / (code_variance[active, None] * factor_variance[None, :])
    return scores


def _single_feature_accuracies(
    codes_train: np.ndarray, factors_train: np.ndarray, codes_test: np.ndarray, factors_test: np.ndarray
) -> np.ndarray:
    """Held-out accuracy of a linear SVM predicting factor k from code dimension j alone -> (D, K)."""
    scores = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    for j in range(codes_train.shape[1]):
        for k in range(factors_train.shape[1]):
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(codes_train[:, j : j + 1], factors_train[:, k])
            scores[j, k] = np.mean(classifier.predict(codes_test[:, j : j + 1]) == factors_test[:, k])
    return scores


def sap(
    codes: np.ndarray,
    factors: np.ndarray,
    *,
    continuous_factors: bool = False,
    test_fraction: float = 1 / 3,
    seed: int = 0,
) -> SAPScores:
    """SAP of latent means ``codes`` (N, D) against ``factors`` (N, K); in [0, 1], higher is better.

    ``factors`` must be integer class indices unless ``continuous_factors`` is set.
    """
    codes, factors = check_codes_and_factors(codes, factors, discrete_factors=not continuous_factors)
    check_fraction("test_fraction", test_fraction)
    codes_train, codes_test, factors_train, factors_test = train_test_split(
        codes, factors, test_size=test_fraction, random_state=seed
    )
    if continuous_factors:
        scores = _squared_correlations(codes_train, factors_train.astype(np.float64))
    else:
        scores = _single_feature_accuracies(codes_train, factors_train, codes_test, factors_test)
    per_factor = top_two_gap(scores)
    return {"sap": float(per_factor.mean()), "sap_per_factor": [float(g) for g in per_factor]}
