"""Downstream usefulness of the codes: accuracy of a linear classifier on the latent means.

A multinomial logistic regression (scikit-learn ``LogisticRegression``, L2 penalty C = 1, lbfgs) on the
standardised posterior means E_q[z|x] of a labelled training set, scored on the posterior means of
held-out examples. This is the linear-probe protocol used to compare representations, e.g. by
Locatello et al. 2019 ("Challenging common assumptions in the unsupervised learning of disentangled
representations", §5: downstream task accuracy from the learned codes).
"""

from __future__ import annotations

import numpy as np

MAX_ITER = 1000


def latent_accuracy(
    train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray, test_labels: np.ndarray
) -> float:
    """Test accuracy in [0, 1] of a logistic regression fitted on ``train_codes`` (N, D) -> ``train_labels``
    (N,) and applied to ``test_codes`` (M, D) against ``test_labels`` (M,)."""
    for name, codes, labels in (("train", train_codes, train_labels), ("test", test_codes, test_labels)):
        if codes.ndim != 2 or labels.shape != (len(codes),):
            raise ValueError(f"{name} codes must be (N, D) with labels (N,), got {codes.shape} and {labels.shape}")
    if len(np.unique(train_labels)) < 2:
        raise ValueError("the training labels hold a single class; a classifier needs at least two")
    # scikit-learn is imported here, not at module level: it adds about a second to every CLI start.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER))
    probe.fit(train_codes, train_labels)
    return float((probe.predict(test_codes) == test_labels).mean())
