"""Machine-learning efficacy of a synthetic table for binary classification, as SDGym scored it for the CTGAN and
TVAE paper (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN", its benchmark; code: SDGym's
``sdgym/evaluate.py`` of 2019-2020, ``_MODELS['binary_classification']`` and ``FeatureMaker``).

Four classifiers learn the target from a training table (the synthetic table, or the real training table for the
reference figure) and predict the real held-out rows; each scores the binary F1 of the positive class, and the
efficacy is their mean. The classifiers and their settings are SDGym's for binary tasks (Adult, Census, Credit):

- ``decision_tree``: ``DecisionTreeClassifier(max_depth=15, class_weight="balanced")`` (SDGym's research code
  labels it "max_depth=20" but builds it with 15);
- ``adaboost``: ``AdaBoostClassifier()``, 50 depth-1 trees (scikit-learn >= 1.6 has only the SAMME algorithm;
  SDGym ran the then-default SAMME.R);
- ``logistic_regression``: ``LogisticRegression(solver="lbfgs", class_weight="balanced", max_iter=50)``;
- ``mlp``: ``MLPClassifier(hidden_layer_sizes=(50,), max_iter=50)``.

The iteration caps are SDGym's: the logistic regression and the MLP stop before they converge, and their
convergence warnings are silenced. ``random_state`` seeds the tree, AdaBoost and the MLP (SDGym left them unseeded).
The classifiers run with one BLAS thread: with two, on a busy 2-core machine, the MLP's small matrix products made
its fit on Adult's 22,561 training rows take 34 s instead of about 2.

Features, as SDGym's ``FeatureMaker`` makes them:

- a numeric column ``x`` whose real range has min >= 0 and max >= 1000 becomes ``log(max(x, 0.01))``, any other
  ``5 (x - min) / (max - min)``; min and max are those of the real held-out table (SDGym: of the whole real data
  set), so the features of a row do not depend on which table the classifiers learn from;
- a categorical column becomes one 0/1 column per category of the training table (a held-out row with a category
  the training table lacks gets zeros), or a single 0/1 column when the training table has at most two categories
  (SDGym: when the whole real data set has).
  SDGym treats a missing cell as a category of its own (Adult's ``'?'``), and so does this.

Known differences from SDGym: SDGym keeps at most 50,000 random rows of each table (here: all rows) and feeds some
columns as ordinal codes (Adult's ``education``) where this one-hot encodes every categorical column. SDGym's
numeric columns have no missing cells; here a missing numeric cell gets the held-out table's median (after the
transform) and an extra 0/1 column marks it. Rows whose target is missing are dropped.

A training table with a single class: as in SDGym, every classifier predicts that class for every held-out row,
so its F1 is 0 when that class is the negative one (and the F1 of always saying "positive" otherwise).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vaelab.evaluation.synthetic.tables import category_codes, column_kinds

LOG_MIN_MAX = 1e3  # a column with min >= 0 and max >= this is log-transformed (SDGym)
LOG_FLOOR = 1e-2
LINEAR_SCALE = 5.0  # other numeric columns are scaled to [0, 5] (SDGym)
CLASSIFIER_NAMES = ("decision_tree", "adaboost", "logistic_regression", "mlp")


def _classifiers(random_state: int) -> dict[str, Any]:
    """SDGym's binary classifiers, unfitted."""
    # scikit-learn is imported here, not at module level: it adds about a second to every CLI start.
    from sklearn.ensemble import AdaBoostClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.tree import DecisionTreeClassifier

    return {
        "decision_tree": DecisionTreeClassifier(max_depth=15, class_weight="balanced", random_state=random_state),
        "adaboost": AdaBoostClassifier(random_state=random_state),
        "logistic_regression": LogisticRegression(solver="lbfgs", class_weight="balanced", max_iter=50),
        "mlp": MLPClassifier(hidden_layer_sizes=(50,), max_iter=50, random_state=random_state),
    }


def _sdgym_transform(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """SDGym's numeric feature: log for a column of range [low >= 0, high >= 1000], else scaled to [0, 5]."""
    if low >= 0 and high >= LOG_MIN_MAX:
        return np.log(np.maximum(values, LOG_FLOOR))
    return (values - low) / (high - low if high > low else 1.0) * LINEAR_SCALE


def _numeric_features(train: pd.Series, test: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """SDGym's transform of one numeric column on the held-out range, (N, 1), or (N, 2) with a missing-cell
    indicator when either table misses a cell."""
    low, high = float(test.min()), float(test.max())
    train_values = _sdgym_transform(train.to_numpy(float, na_value=np.nan), low, high)
    test_values = _sdgym_transform(test.to_numpy(float, na_value=np.nan), low, high)
    train_missing, test_missing = np.isnan(train_values), np.isnan(test_values)
    if not (train_missing.any() or test_missing.any()):
        return train_values[:, None], test_values[:, None]
    fill = np.nanmedian(test_values) if not test_missing.all() else 0.0
    return (
        np.column_stack([np.where(train_missing, fill, train_values), train_missing]),
        np.column_stack([np.where(test_missing, fill, test_values), test_missing]),
    )


def _categorical_features(train: pd.Series, test: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One-hot columns of the training table's categories (most frequent first), a missing cell a category of its
    own; a single indicator when the training table has at most two categories."""
    (train_codes, test_codes), num_values = category_codes(train, test)
    missing = num_values  # the code of a missing cell
    train_codes, test_codes = (
        np.where(train_codes < 0, missing, train_codes),
        np.where(test_codes < 0, missing, test_codes),
    )
    counts = np.bincount(train_codes, minlength=num_values + 1)
    categories = np.argsort(-counts, kind="stable")[: np.count_nonzero(counts)]
    if len(categories) <= 2:
        second = categories[1] if len(categories) == 2 else -1
        return (train_codes == second)[:, None].astype(float), (test_codes == second)[:, None].astype(float)
    return (
        (train_codes[:, None] == categories[None, :]).astype(float),
        (test_codes[:, None] == categories[None, :]).astype(float),
    )


def _labelled(table: pd.DataFrame, target: str, positive: Hashable) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows with a target, and their labels: 1 for ``positive``, else 0."""
    table = table[table[target].notna()]
    return table.drop(columns=[target]), (table[target] == positive).to_numpy(int)


def ml_efficacy(
    train: pd.DataFrame,
    test: pd.DataFrame,
    target: str,
    positive: Hashable,
    categorical: Sequence[str],
    random_state: int = 0,
) -> dict[str, float]:
    """F1 on the real held-out rows ``test`` of each of SDGym's binary classifiers fitted on ``train`` (a synthetic
    table, or the real training table), keyed by classifier name (:data:`CLASSIFIER_NAMES`), and their ``mean``.

    ``target`` is the label column and ``positive`` its positive class; ``categorical`` names the categorical
    columns (the target may be among them)."""
    kinds = column_kinds({"train": train, "test": test}, categorical)
    if target not in kinds.columns:
        raise ValueError(f"the target column {target!r} is not a column of the tables")
    train_rows, train_labels = _labelled(train, target, positive)
    test_rows, test_labels = _labelled(test, target, positive)
    if len(train_labels) == 0:
        raise ValueError(f"train has no row with a value in the target column {target!r}")
    if not test_labels.any():
        raise ValueError(f"the positive class {positive!r} never occurs in test's target column {target!r}")
    train_parts, test_parts = [], []
    for column in kinds.columns:
        if column == target:
            continue
        make = _categorical_features if column in kinds.categorical else _numeric_features
        train_part, test_part = make(train_rows[column], test_rows[column])
        train_parts.append(train_part)
        test_parts.append(test_part)
    train_features, test_features = np.hstack(train_parts), np.hstack(test_parts)

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import f1_score
    from threadpoolctl import threadpool_limits

    scores = {}
    for name, classifier in _classifiers(random_state).items():
        if len(np.unique(train_labels)) == 1:
            predicted = np.full(len(test_labels), train_labels[0])
        else:
            with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
                warnings.simplefilter("ignore", ConvergenceWarning)
                predicted = classifier.fit(train_features, train_labels).predict(test_features)
        scores[name] = float(f1_score(test_labels, predicted, zero_division=0.0))
    scores["mean"] = sum(scores.values()) / len(scores)
    return scores
