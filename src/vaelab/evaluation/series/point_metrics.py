"""Point-wise and point-adjusted F1 of per-point anomaly scores, and their ROC-AUC.

Every function takes ``scores`` (N,) floats, higher = more anomalous, NaN for a point that was not scored
(e.g. the first points of a series, before a full window), and ``labels`` (N,) of 0/1. Unscored points are
ignored: they count neither as alarms nor as misses. A point is an alarm when ``score >= threshold``.

Point adjustment (Xu et al. 2018, "Unsupervised Anomaly Detection via Variational Auto-Encoder for Seasonal
KPIs in Web Applications", §4.2, Fig. 7): if any point of a contiguous labelled segment is an alarm, every
point of that segment counts as detected; alarms outside the segments are unchanged. One alarm anywhere in
a long segment earns the whole segment, so the adjustment flatters noisy and trivial detectors: Garg et al.
2021 ("An Evaluation of Anomaly Detection and Diagnosis in Multivariate Time Series", IEEE TNNLS) show that
it inflates F1 enough for trivial detectors to look competitive, and propose a composite F-score (event-wise
recall, point-wise precision) instead. Report it next to point-wise F1, never alone.

Undefined ratios (precision with no alarm, recall with no labelled anomaly, F1 when both are 0) are 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaelab.errors import UserError


@dataclass(frozen=True)
class F1Result:
    """F1 with its precision and recall at ``threshold`` (an alarm is ``score >= threshold``)."""

    f1: float
    precision: float
    recall: float
    threshold: float


@dataclass(frozen=True)
class _ScoredPoints:
    """The scored points (NaN scores dropped) and, for each, its labelled segment (-1 for a normal point);
    segments are numbered on the whole series, so dropping a point never joins two segments."""

    scores: np.ndarray
    labels: np.ndarray
    segment_ids: np.ndarray


def _segment_ids(labels: np.ndarray) -> np.ndarray:
    """Labels (N,) bool -> the number of each point's contiguous labelled segment (0, 1, ...), -1 if normal."""
    starts = labels & ~np.r_[False, labels[:-1]]
    return np.where(labels, np.cumsum(starts) - 1, -1)


def _checked(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scores`` as floats and ``labels`` as booleans, or a UserError saying what is wrong with them."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if scores.ndim != 1 or labels.shape != scores.shape:
        raise UserError(
            f"scores and labels must be 1-D arrays of the same length, got shapes {scores.shape} and "
            f"{labels.shape}; give one score and one label per point"
        )
    if not np.isin(labels, (0, 1)).all():
        raise UserError("labels must be 0 (normal) or 1 (anomaly); give one 0/1 label per point")
    if np.isnan(scores).all():
        raise UserError("no point was scored (the scores are empty or all NaN); give at least one numeric score")
    return scores, labels.astype(bool)


def _scored_points(scores: np.ndarray, labels: np.ndarray) -> _ScoredPoints:
    scores, labels = _checked(scores, labels)
    scored = ~np.isnan(scores)
    return _ScoredPoints(scores[scored], labels[scored], _segment_ids(labels)[scored])


def _f1_result(true_positives: float, alarms: float, anomalies: float, threshold: float) -> F1Result:
    """Precision TP / alarms, recall TP / anomalies and their harmonic mean F1 = 2 TP / (alarms + anomalies)."""
    precision = true_positives / alarms if alarms else 0.0
    recall = true_positives / anomalies if anomalies else 0.0
    f1 = 2 * true_positives / (alarms + anomalies) if true_positives else 0.0
    return F1Result(float(f1), float(precision), float(recall), float(threshold))


def _f1_of_alarms(alarms: np.ndarray, anomalies: np.ndarray, threshold: float) -> F1Result:
    """F1 of boolean ``alarms`` against boolean ``anomalies`` (the labels)."""
    true_positives = int(np.count_nonzero(alarms & anomalies))
    return _f1_result(true_positives, int(np.count_nonzero(alarms)), int(np.count_nonzero(anomalies)), threshold)


def point_adjusted_alarms(alarms: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Boolean ``alarms`` (N,) -> the point-adjusted alarms (Xu et al. 2018, §4.2): every point of a labelled
    segment (a run of 1s in ``labels``) that holds at least one alarm becomes an alarm."""
    alarms, labels = np.asarray(alarms, dtype=bool), np.asarray(labels, dtype=bool)
    if labels.shape != alarms.shape:
        raise UserError(f"alarms {alarms.shape} and labels {labels.shape} differ in shape; give one of each per point")
    segment_ids = _segment_ids(labels)
    return alarms | np.isin(segment_ids, segment_ids[alarms & labels])


def point_f1(scores: np.ndarray, labels: np.ndarray, threshold: float) -> F1Result:
    """Point-wise F1 at ``threshold``: each scored point is a true or false positive or negative on its own."""
    points = _scored_points(scores, labels)
    alarms = points.scores >= threshold
    return _f1_of_alarms(alarms, points.labels, threshold)


def point_adjusted_f1(scores: np.ndarray, labels: np.ndarray, threshold: float) -> F1Result:
    """Point-adjusted F1 at ``threshold``: a labelled segment with any alarmed scored point counts all its
    scored points as detected (Xu et al. 2018, §4.2; flattering, see Garg et al. 2021 in the module doc)."""
    scores, labels = _checked(scores, labels)
    scored = ~np.isnan(scores)
    adjusted = point_adjusted_alarms(scores >= threshold, labels) & scored
    anomalies = labels & scored
    return _f1_of_alarms(adjusted, anomalies, threshold)


def _best_f1(candidates: np.ndarray, new_true_positives: np.ndarray, new_alarms: np.ndarray) -> F1Result:
    """The best F1 over thresholds at each value of ``candidates``: lowering the threshold to a candidate adds
    its ``new_true_positives`` and ``new_alarms``. Sorted once, so O(N log N); ties in F1 go to the highest
    threshold (the fewest alarms)."""
    order = np.argsort(-candidates, kind="stable")
    candidates = candidates[order]
    true_positives, alarms = np.cumsum(new_true_positives[order]), np.cumsum(new_alarms[order])
    last_of_each_value = np.r_[candidates[1:] != candidates[:-1], True]
    candidates, true_positives, alarms = (a[last_of_each_value] for a in (candidates, true_positives, alarms))
    anomalies = new_true_positives.sum()
    f1 = np.divide(2 * true_positives, alarms + anomalies, out=np.zeros(len(candidates)), where=true_positives > 0)
    best = int(np.argmax(f1))
    return _f1_result(true_positives[best], alarms[best], anomalies, candidates[best])


def best_point_f1(scores: np.ndarray, labels: np.ndarray) -> F1Result:
    """The best point-wise F1 over all thresholds (each scored point's score is a candidate)."""
    points = _scored_points(scores, labels)
    return _best_f1(points.scores, points.labels.astype(float), np.ones(len(points.scores)))


def best_point_adjusted_f1(scores: np.ndarray, labels: np.ndarray) -> F1Result:
    """The best point-adjusted F1 over all thresholds, in O(N log N).

    At threshold θ a segment is detected iff its highest score is >= θ, and then adds all its scored points
    to the true positives and to the alarms; a normal point adds one alarm iff its score is >= θ. So the
    candidates are the normal points' scores and the segments' highest scores, swept as in point-wise F1.
    """
    points = _scored_points(scores, labels)
    normal = ~points.labels
    _, segment_starts, segment_sizes = np.unique(
        points.segment_ids[points.labels], return_index=True, return_counts=True
    )
    segment_highest = np.maximum.reduceat(points.scores[points.labels], segment_starts)
    candidates = np.r_[points.scores[normal], segment_highest]
    new_true_positives = np.r_[np.zeros(normal.sum()), segment_sizes]
    new_alarms = np.r_[np.ones(normal.sum()), segment_sizes]
    return _best_f1(candidates, new_true_positives, new_alarms)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Per-point ROC-AUC of the scored points (scikit-learn's ``roc_auc_score``); None when the scored points
    hold a single class, for which it is undefined."""
    points = _scored_points(scores, labels)
    if points.labels.all() or not points.labels.any():
        return None
    # scikit-learn is imported here, not at module level: it adds about a second to every CLI start.
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(points.labels, points.scores))
