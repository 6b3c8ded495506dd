"""Point-wise and point-adjusted F1 and ROC-AUC of per-point scores: the threshold sweeps against a brute-force
loop over every threshold, the adjustment on hand-made series, unscored points and bad input."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vaelab import UserError
from vaelab.evaluation.series.point_metrics import (
    F1Result,
    best_point_adjusted_f1,
    best_point_f1,
    point_adjusted_alarms,
    point_adjusted_f1,
    point_f1,
    roc_auc,
)

SEEDS = range(6)


def random_series(seed: int, length: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels with about 8 labelled segments of 1 to 30 points, anomalies scoring higher on
    average, scores rounded so that thresholds tie, and NaN for the first 10 points (a window's warm-up)
    and for a few scattered points, some inside segments."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(length, dtype=int)
    for start in rng.integers(10, length - 30, size=8):
        labels[start : start + rng.integers(1, 31)] = 1
    scores = np.round(rng.normal(size=length) + 1.5 * labels * rng.uniform(size=length), 1)
    scores[:10] = np.nan
    scores[rng.integers(10, length, size=15)] = np.nan
    return scores, labels


def brute_force_best_f1(
    f1_at: Callable[[np.ndarray, np.ndarray, float], F1Result], scores: np.ndarray, labels: np.ndarray
) -> float:
    """The best F1 of ``f1_at`` over every distinct score taken as the threshold, one at a time."""
    return max(f1_at(scores, labels, threshold).f1 for threshold in np.unique(scores[~np.isnan(scores)]))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("best_f1", "f1_at"), [(best_point_f1, point_f1), (best_point_adjusted_f1, point_adjusted_f1)])
def test_best_f1_sweep_equals_brute_force(seed: int, best_f1: Callable, f1_at: Callable) -> None:
    scores, labels = random_series(seed)
    best = best_f1(scores, labels)
    assert best.f1 == pytest.approx(brute_force_best_f1(f1_at, scores, labels), abs=1e-12)
    assert best == f1_at(scores, labels, best.threshold)  # precision, recall and threshold agree too
    assert 0 < best.f1 < 1


def test_point_adjustment_by_hand() -> None:
    labels = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 1])
    alarms = np.array([0, 0, 1, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    # The first segment holds an alarm and becomes all alarms; the second has none; the last is one point.
    expected = np.array([0, 1, 1, 1, 1, 0, 0, 0, 0, 1], dtype=bool)
    np.testing.assert_array_equal(point_adjusted_alarms(alarms, labels), expected)

    scores = np.where(alarms, 0.9, 0.1)
    # Point-wise: TP 2 (indices 2, 9), FP 1 (index 4), 6 anomalies.
    assert point_f1(scores, labels, 0.5) == F1Result(f1=4 / 9, precision=2 / 3, recall=2 / 6, threshold=0.5)
    # Adjusted: TP 4 (the first segment and the last point), FP 1, 6 anomalies.
    assert point_adjusted_f1(scores, labels, 0.5) == F1Result(f1=8 / 11, precision=4 / 5, recall=4 / 6, threshold=0.5)


def test_unscored_points_are_ignored() -> None:
    labels = np.array([0, 1, 1, 1, 0, 1, 0, 1, 0])
    scores = np.array([0.0, np.nan, 0.9, 0.1, np.nan, 0.2, 0.5, 0.05, 0.0])
    # 4 scored anomalies (indices 2, 3, 5, 7): 0.9 alone point-wise, the first segment's 2 scored points adjusted.
    assert point_f1(scores, labels, 0.5).recall == pytest.approx(1 / 4)
    assert point_adjusted_f1(scores, labels, 0.5).recall == pytest.approx(2 / 4)
    # Threshold 0.05 detects every segment with one false alarm (0.5): F1 = 2 * 4 / (5 + 4).
    assert best_point_adjusted_f1(scores, labels) == F1Result(f1=8 / 9, precision=4 / 5, recall=1.0, threshold=0.05)
    # Unscored warm-up points change nothing.
    warm_up, padded_labels = np.r_[np.full(5, np.nan), scores], np.r_[np.zeros(5, dtype=int), labels]
    assert best_point_f1(warm_up, padded_labels) == best_point_f1(scores, labels)
    assert best_point_adjusted_f1(warm_up, padded_labels) == best_point_adjusted_f1(scores, labels)


def test_an_unscored_normal_point_keeps_two_segments_apart() -> None:
    labels, scores = np.array([1, 0, 1, 0]), np.array([0.9, np.nan, 0.1, 0.5])
    # Joined into one segment, threshold 0.9 would detect both anomalies with no false alarm (F1 = 1). Apart,
    # the second needs threshold 0.1, which also alarms on 0.5: F1 = 2 * 2 / (3 + 2).
    assert point_adjusted_f1(scores, labels, 0.9).recall == 0.5
    assert best_point_adjusted_f1(scores, labels) == F1Result(f1=0.8, precision=2 / 3, recall=1.0, threshold=0.1)


@pytest.mark.parametrize("seed", SEEDS)
def test_point_adjusted_f1_is_never_below_point_f1(seed: int) -> None:
    scores, labels = random_series(seed)
    assert best_point_adjusted_f1(scores, labels).f1 >= best_point_f1(scores, labels).f1
    for threshold in np.linspace(-1, 2, 7):
        assert point_adjusted_f1(scores, labels, threshold).f1 >= point_f1(scores, labels, threshold).f1


def test_no_labelled_anomaly_gives_zero_f1() -> None:
    scores, labels = np.array([0.1, 0.5, 0.9]), np.zeros(3, dtype=int)
    assert best_point_f1(scores, labels).f1 == 0.0
    assert best_point_adjusted_f1(scores, labels) == F1Result(0.0, 0.0, 0.0, threshold=0.9)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_equals_scikit_learn_on_the_scored_points(seed: int) -> None:
    scores, labels = random_series(seed)
    scored = ~np.isnan(scores)
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels[scored], scores[scored]), abs=1e-12)


def test_roc_auc_of_a_single_class_is_none() -> None:
    assert roc_auc(np.array([0.1, 0.2, 0.3]), np.zeros(3)) is None
    assert roc_auc(np.array([0.1, np.nan, 0.3]), np.array([1, 0, 1])) is None  # the only normal point is unscored


def test_sweeps_of_a_long_series_are_fast() -> None:
    rng = np.random.default_rng(0)
    labels = np.zeros(20_000, dtype=int)
    for start in rng.integers(0, 20_000, size=100):
        labels[start : start + 20] = 1
    scores = rng.normal(size=20_000) + labels
    start = time.perf_counter()
    best_point_f1(scores, labels)
    best_point_adjusted_f1(scores, labels)
    assert time.perf_counter() - start < 0.5  # about 10 ms here; a quadratic sweep takes minutes


@pytest.mark.parametrize(
    ("scores", "labels", "problem"),
    [
        (np.zeros(3), np.zeros(4), "same length"),
        (np.zeros((2, 2)), np.zeros((2, 2)), "1-D"),
        (np.zeros(3), np.array([0, 1, 2]), "must be 0"),
        (np.full(3, np.nan), np.zeros(3), "no point was scored"),
        (np.zeros(0), np.zeros(0), "no point was scored"),
    ],
)
def test_bad_input_is_a_user_error(scores: np.ndarray, labels: np.ndarray, problem: str) -> None:
    for metric in (best_point_f1, best_point_adjusted_f1, roc_auc):
        with pytest.raises(UserError, match=problem) as error:
            metric(scores, labels)
        assert "\n" not in str(error.value)
