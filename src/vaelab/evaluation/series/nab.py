"""The Numenta Anomaly Benchmark (NAB) score of per-point anomaly scores, reimplemented from its definitions.

Reference: A. Lavin and S. Ahmad, "Evaluating Real-time Anomaly Detection Algorithms – the Numenta Anomaly
Benchmark", IEEE ICMLA 2015 (arXiv:1510.03336), and the reference code in the numenta/NAB repository
(https://github.com/numenta/NAB, read at commit ea702d7: ``nab/sweeper.py``, ``nab/scorer.py``,
``nab/optimizer.py``, ``nab/labeler.py``, ``nab/runner.py``, ``nab/util.py``). No code is copied; every
formula below is restated next to the code that computes it, with the NAB function it reproduces.

The definitions, for one series of N points with anomaly windows [start_k, end_k] (inclusive indices):

* Probationary period: the first ``min(floor(0.15 N), 750)`` points are never scored (the detector is
  still learning). Windows come from the labelled anomalies (:func:`label_windows`) or, for the benchmark
  itself, from NAB's ``labels/combined_windows.json`` (:func:`nab_windows`).
* A point is a detection when ``anomaly_score >= threshold``.
* Every point t has a sweep score S(t), the weighted score it earns if it is a detection (NAB's
  ``Sweeper.calcSweepScore``): inside window k, ``tp_weight * sigma(-(end_k - t + 1) / width_k) / sigma(-1)``
  where ``width_k = end_k - start_k + 1`` and ``sigma`` is :func:`scaled_sigmoid`; outside every window,
  ``fp_weight * sigma((t - end_j) / (width_j - 1))`` with j the last window that ended before t, or
  ``-fp_weight`` when no window precedes t.
* The raw score of a series at a threshold (NAB's ``Sweeper.calcScoreByThreshold``) sums, over the windows
  with at least one scored point, the largest S(t) of the window's scored detections (the earliest one,
  as S decreases through a window), or ``-fn_weight`` when the window has no scored detection; plus S(t)
  of every scored detection outside the windows. True negatives score 0.
* The threshold of a detector is chosen once for a whole corpus (:func:`optimise_threshold`, NAB's
  ``optimizer.optimizeThreshold``), and the corpus score is normalised to 100 for a perfect detector and 0
  for the null detector that never fires (:func:`normalised_score`, NAB's ``Runner.normalize``).

NAB's scorer changed in 2019 (numenta/NAB PR #328, "Sweep scoring"): before it (NAB v1.0, 2015–2018), the
S(t) column of a results file held only the realised contributions (each window's score at the window's
first point, each false positive's score at the detection, 0 elsewhere) and the results row's
``Total_Count`` was the series length; since then S(t) holds the sweep score of every point and
``Total_Count`` counts the scored points only. The raw score, TP, TN, FP and FN are the same in both.
:class:`SeriesScore` carries both layouts (``sweep_scores`` and ``contributions``, ``total_count`` and
``n_points``) so results files of either vintage can be checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from vaelab.errors import UserError, shown

PROBATIONARY_FRACTION = 0.15
"""Fraction of a series not scored, at its start (NAB ``Runner.probationaryPercent``)."""
PROBATIONARY_CAP_SERIES_LENGTH = 5000
"""The probationary period stops growing past series of 5000 points: it is at most 0.15 * 5000 = 750 points
(NAB ``util.getProbationPeriod``)."""
WINDOW_FRACTION = 0.10
"""Fraction of a series' length shared out among its anomaly windows (NAB ``Runner.windowSize``)."""
SWEEP_START_THRESHOLD = 1.1
"""NAB's sweep starts above every score in [0, 1]: the threshold at which a detector never fires."""


@dataclass(frozen=True)
class CostMatrix:
    """The weights of one NAB application profile (``config/profiles.json``, key ``CostMatrix``).

    ``tp_weight`` scales the score of a detected window, ``fp_weight`` that of a false positive,
    ``fn_weight`` is subtracted for each missed window; NAB lists a ``tnWeight`` too but never uses it.
    """

    tp_weight: float
    fp_weight: float
    fn_weight: float
    tn_weight: float = 1.0


NAB_PROFILES: dict[str, CostMatrix] = {
    "standard": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0),
    "reward_low_FP_rate": CostMatrix(tp_weight=1.0, fp_weight=0.22, fn_weight=1.0),
    "reward_low_FN_rate": CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=2.0),
}
"""NAB's three application profiles, as in numenta/NAB ``config/profiles.json`` (commit ea702d7), described by
Lavin & Ahmad 2015: the standard one, one that penalises false positives twice as much, and one that
penalises missed windows twice as much."""


Window = tuple[pd.Timestamp, pd.Timestamp]
"""An anomaly window: its first and last timestamps, both inclusive and both timestamps of the series."""


class NabSeries(NamedTuple):
    """One series of a corpus: its timestamps, the detector's anomaly score at each, its anomaly windows."""

    timestamps: Sequence[Any] | pd.DatetimeIndex | np.ndarray
    anomaly_scores: Sequence[float] | np.ndarray
    windows: Sequence[tuple[Any, Any]]


@dataclass(frozen=True, eq=False)
class SeriesScore:
    """NAB's score of one series at one threshold (one row of NAB's ``<detector>_<profile>_scores.csv``).

    ``sweep_scores`` (N,): S(t) of every point, probationary ones included, as NAB's current scorer
    writes it to the ``S(t)_<profile>`` column: what the point earns if it is a detection.
    ``contributions`` (N,): what each point actually contributes, as NAB v1.0 wrote the same column: each
    scored window's score (its first detection's S(t), or ``-fn_weight`` if missed) at the window's first
    point, each scored false positive's S(t) at its point, 0 elsewhere; these sum to ``raw_score``.
    ``tp``/``fn``: scored points inside windows that are / are not detections; ``fp``/``tn``: the same
    outside windows. ``total_count`` = tp + tn + fp + fn (NAB's current ``Total_Count``); ``n_points`` = N
    (NAB v1.0's ``Total_Count``).
    """

    threshold: float
    raw_score: float
    tp: int
    tn: int
    fp: int
    fn: int
    total_count: int
    n_points: int
    sweep_scores: np.ndarray
    contributions: np.ndarray


class ThresholdChoice(NamedTuple):
    """The corpus-optimal threshold and the corpus raw score (summed over all series) that it earns."""

    threshold: float
    raw_score: float


# ---------------------------------------------------------------------------------------------------------
# Formulas


def scaled_sigmoid(relative_position: float | np.ndarray) -> np.ndarray:
    """NAB's ``scaledSigmoid``: ``2 / (1 + exp(5 x)) - 1`` for a relative position x <= 3, and -1 beyond.

    x = -1 is a window's first point (0.98661), x = 0 its right edge (0), x > 0 a false positive that far
    behind a window, in window widths (x = 1 gives -0.98661). Returns an array shaped like the input (0-d for
    a number). The exponential is CPython's
    ``math.exp`` (as in NAB) so that the values match NAB's to the last bit, which the optimiser's tie-breaks
    can depend on; the arithmetic is ``2 * (1 / (1 + e)) - 1``, in NAB's order.
    """
    positions = np.atleast_1d(np.asarray(relative_position, dtype=np.float64))
    # A series has few distinct positions (they repeat window after window): exponentiate each once.
    distinct, where = np.unique(np.minimum(positions, 3.0), return_inverse=True)
    exponentials = np.array([math.exp(5.0 * x) for x in distinct.tolist()], dtype=np.float64)
    values = (2.0 * (1.0 / (1.0 + exponentials)) - 1.0)[where.reshape(-1)]
    return np.where(positions > 3.0, -1.0, values).reshape(np.shape(relative_position))


MAX_TRUE_POSITIVE = float(scaled_sigmoid(-1.0))
"""sigma(-1) = 2 / (1 + e^-5) - 1 ≈ 0.98661: the unscaled score of a detection at a window's first point; NAB
divides true-positive scores by it so that an immediate detection earns exactly ``tp_weight``."""


def probationary_length(n_points: int, fraction: float = PROBATIONARY_FRACTION) -> int:
    """NAB's ``util.getProbationPeriod``: ``min(floor(fraction * N), fraction * 5000)`` points, i.e. at most
    750 for the default fraction; points with index >= this are scored."""
    return int(min(math.floor(fraction * n_points), math.ceil(fraction * PROBATIONARY_CAP_SERIES_LENGTH)))


def normalise_raw_score(raw_score: float, null_raw_score: float, perfect_raw_score: float) -> float:
    """NAB's normalised score (``Runner.normalize``): ``100 * (raw - null) / (perfect - null)``."""
    if perfect_raw_score == null_raw_score:
        raise UserError("the corpus has no scored anomaly window, so its NAB score cannot be normalised")
    return 100.0 * (raw_score - null_raw_score) / (perfect_raw_score - null_raw_score)


# ---------------------------------------------------------------------------------------------------------
# Windows


def nab_windows(path: str | Path) -> dict[str, list[Window]]:
    """The anomaly windows of NAB's ``labels/combined_windows.json``: ``"category/file.csv" -> [(start, end)]``
    with timestamps such as ``2014-07-01 00:00:00.000000`` parsed to :class:`pandas.Timestamp`."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not JSON ({error.msg} at line {error.lineno}); give NAB's windows file") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path} must hold a JSON object 'file name -> list of [start, end]' (NAB's windows file)")
    windows: dict[str, list[Window]] = {}
    for name, limits in raw.items():
        if not isinstance(limits, list) or not all(isinstance(w, list) and len(w) == 2 for w in limits):
            raise UserError(f"{path}: the windows of {shown(name)} must be a list of [start, end] pairs")
        windows[name] = [(_timestamp(start, name), _timestamp(end, name)) for start, end in limits]
    return windows


def label_windows(
    timestamps: Sequence[Any] | pd.DatetimeIndex | np.ndarray,
    anomaly_timestamps: Sequence[Any],
    window_fraction: float = WINDOW_FRACTION,
    probationary_fraction: float = PROBATIONARY_FRACTION,
    *,
    strict_timestamps: bool = True,
) -> list[Window]:
    """The anomaly windows NAB's labeler builds around labelled anomaly points (``LabelCombiner.applyWindows``
    and ``checkWindows``), which is how ``combined_windows.json`` was made from ``combined_labels.json``.

    Each window is ``int(window_fraction * N / number_of_anomalies)`` points long, centred on its anomaly:
    from index ``a - L // 2`` to ``a + L // 2`` (NAB ran on Python 2, where ``/`` on integers floors),
    clipped to the series. Then, as NAB does: the first window is dropped if it starts before the end of
    the probationary period, and each window that starts at or before the end of the one before it is
    merged into it (in one left-to-right pass, as NAB's loop does). Every anomaly timestamp must be a
    timestamp of the series. ``strict_timestamps``: see :func:`score_series` (here, an anomaly timestamp that
    occurs several times labels each occurrence, as NAB's ``isin`` does).
    """
    index = _checked_timestamps(timestamps, strict_timestamps)
    n_points = len(index)
    anomalies = pd.DatetimeIndex([_timestamp(t, "the anomaly labels") for t in anomaly_timestamps])
    missing = anomalies[~anomalies.isin(index)]
    if len(missing):
        raise UserError(f"anomaly label {missing[0]} is not one of the series' timestamps; labels must match exactly")
    anomaly_indices = np.flatnonzero(index.isin(anomalies)).tolist()
    if not anomaly_indices:
        return []
    window_length = int(window_fraction * n_points / len(anomaly_indices))
    half = window_length // 2
    limits = [[max(a - half, 0), min(a + half, n_points - 1)] for a in anomaly_indices]
    if limits[0][0] < probationary_length(n_points, probationary_fraction):
        del limits[0]
    position = 0
    while len(limits) - 1 > position:
        if limits[position + 1][0] <= limits[position][1]:
            limits[position] = [limits[position][0], limits[position + 1][1]]
            del limits[position + 1]
        position += 1
    return [(index[start], index[end]) for start, end in limits]


# ---------------------------------------------------------------------------------------------------------
# Scoring one series


@dataclass(frozen=True, eq=False)
class _SweptSeries:
    """One series prepared for scoring: the sweep score and window of every point, and which are scored."""

    anomaly_scores: np.ndarray  # (N,) float64
    sweep_scores: np.ndarray  # (N,) float64, S(t)
    window_of_point: np.ndarray  # (N,) int64, -1 outside every window
    window_starts: np.ndarray  # (K,) int64 index of each window's first point
    window_ends: np.ndarray  # (K,) int64 index of each window's last point
    first_scored: int  # the probationary length: points before it are not scored


def _sweep_series(series: NabSeries, costs: CostMatrix, strict_timestamps: bool) -> _SweptSeries:
    """The sweep score S(t) of every point (NAB's ``Sweeper.calcSweepScore``; formulas in the module doc)."""
    index = _checked_timestamps(series.timestamps, strict_timestamps)
    n_points = len(index)
    anomaly_scores = _checked_scores(series.anomaly_scores, n_points)
    starts, ends = _window_indices(series.windows, index)

    # Before the first window: as if infinitely far behind one, -fp_weight (NAB: -1.0 * fp_weight).
    sweep_scores = np.full(n_points, -1.0 * costs.fp_weight)
    window_of_point = np.full(n_points, -1, dtype=np.int64)
    for k, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        width = end - start + 1
        window_of_point[start : end + 1] = k
        # Inside: relative position -(end - t + 1) / width, from -1 at the start up to -1/width at the end.
        inside_positions = -(end - np.arange(start, end + 1) + 1) / float(width)
        sweep_scores[start : end + 1] = scaled_sigmoid(inside_positions) * costs.tp_weight / MAX_TRUE_POSITIVE
        # After it, up to the next window: (t - end) / (width - 1) (NAB divides by float(width - 1); a one-point
        # window followed by points is rejected by _window_indices). Past 3, sigma is -1: no need to compute it.
        stop = int(starts[k + 1]) if k + 1 < len(starts) else n_points
        computed = min(stop - end - 1, 3 * (width - 1) + 1)
        if computed > 0:
            past_positions = np.arange(1, computed + 1) / float(width - 1)
            sweep_scores[end + 1 : end + 1 + computed] = scaled_sigmoid(past_positions) * costs.fp_weight
            sweep_scores[end + 1 + computed : stop] = -1.0 * costs.fp_weight
    return _SweptSeries(anomaly_scores, sweep_scores, window_of_point, starts, ends, probationary_length(n_points))


def score_series(
    timestamps: Sequence[Any] | pd.DatetimeIndex | np.ndarray,
    anomaly_scores: Sequence[float] | np.ndarray,
    windows: Sequence[tuple[Any, Any]],
    threshold: float,
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> SeriesScore:
    """NAB's score of one series at ``threshold`` (NAB's ``Sweeper.scoreDataSet``): detections are the points
    with ``anomaly_score >= threshold``; the raw score and counts are defined in the module docstring.

    ``windows`` are (start, end) timestamps of the series, in order, not overlapping. The raw score is summed
    in NAB's order (false positives in decreasing anomaly score, then the windows) so that it matches NAB's
    to the last bit.

    ``strict_timestamps=False`` accepts timestamps that are not strictly increasing and scores by position,
    as NAB does: a few of NAB's own series repeat a stretch of time (``machine_temperature_system_failure``
    repeats 02:00–02:55 of 2014-01-07, some realAWSCloudwatch, realAdExchange and realTraffic series hold
    duplicates). Each window limit must then occur exactly once in the series (NAB's labeler checks this),
    and a window is the points from its start's position to its end's.
    """
    costs = _cost_matrix(profile)
    threshold = _checked_threshold(threshold)
    swept = _sweep_series(NabSeries(timestamps, anomaly_scores, windows), costs, strict_timestamps)
    n_points = len(swept.anomaly_scores)
    first = swept.first_scored
    scored = np.arange(n_points) >= first
    detected = scored & (swept.anomaly_scores >= threshold)
    inside = swept.window_of_point >= 0

    # NAB's summation order: the scored points sorted by decreasing anomaly score (ties in time order), the
    # false positives added one by one in that order, then each window's part in order of first appearance.
    order = first + np.argsort(-swept.anomaly_scores[first:], kind="stable")
    false_positive_order = order[detected[order] & ~inside[order]]
    raw_score = float(np.cumsum(swept.sweep_scores[false_positive_order])[-1]) if false_positive_order.size else 0.0
    contributions = np.zeros(n_points)
    contributions[false_positive_order] = swept.sweep_scores[false_positive_order]
    windows_in_order = pd.unique(swept.window_of_point[order[inside[order]]])
    for k in windows_in_order.tolist():
        in_window_detected = np.flatnonzero(detected & (swept.window_of_point == k))
        part = (
            max(-costs.fn_weight, float(swept.sweep_scores[in_window_detected].max()))
            if in_window_detected.size
            else -costs.fn_weight
        )
        contributions[swept.window_starts[k]] = part
        raw_score += part

    tp = int((detected & inside).sum())
    fp = int((detected & ~inside).sum())
    fn = int((scored & inside).sum()) - tp
    tn = int((scored & ~inside).sum()) - fp
    return SeriesScore(
        threshold=threshold,
        raw_score=raw_score,
        tp=tp,
        tn=tn,
        fp=fp,
        fn=fn,
        total_count=tp + tn + fp + fn,
        n_points=n_points,
        sweep_scores=swept.sweep_scores,
        contributions=contributions,
    )


def score_corpus(
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]],
    threshold: float,
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> list[SeriesScore]:
    """:func:`score_series` of every series of ``corpus`` at one threshold (NAB's ``scorer.scoreCorpus``);
    the corpus raw score is the sum of the ``raw_score`` fields."""
    return [
        score_series(*_as_series(entry, i), threshold, profile, strict_timestamps=strict_timestamps)
        for i, entry in enumerate(corpus)
    ]


# ---------------------------------------------------------------------------------------------------------
# Threshold optimisation and normalisation


def optimise_threshold(
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]],
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> ThresholdChoice:
    """The threshold that maximises the corpus raw score, as NAB's ``optimizer.optimizeThreshold`` finds it.

    NAB pools the scored points of every series (in corpus order, each in time order), sorts them by
    decreasing anomaly score (a stable sort: ties keep that order) and walks down the list, recording the
    corpus raw score at each candidate threshold: first 1.1 (no detection; NAB's sweep assumes scores in
    [0, 1]; here it starts just above the largest score if some score is >= 1.1, and is skipped if the
    largest equals 1.1, as in NAB), then every distinct anomaly score (detections: the points scoring at
    least that much). It returns the candidate with the highest score; among equal scores the first
    recorded one, i.e. the highest threshold. The score at each candidate is summed in NAB's order (the
    false positives' cumulative sum in walking order, then each window's part in order of the window's
    first appearance in the walk), so that ties are broken on the same floating-point values as NAB.

    One pass over the sorted points gives every candidate's score: O(P log P + K·C) for P points, K windows
    and C candidates.
    """
    costs = _cost_matrix(profile)
    swept = _swept_corpus(corpus, costs, strict_timestamps)
    if not swept:
        raise UserError("the corpus to optimise a NAB threshold on is empty; give at least one series")
    window_offsets = np.cumsum([0] + [len(s.window_starts) for s in swept])
    anomaly_scores = np.concatenate([s.anomaly_scores[s.first_scored :] for s in swept])
    sweep_scores = np.concatenate([s.sweep_scores[s.first_scored :] for s in swept])
    window_ids = np.concatenate(
        [
            np.where(s.window_of_point >= 0, s.window_of_point + offset, -1)[s.first_scored :]
            for s, offset in zip(swept, window_offsets[:-1].tolist(), strict=True)
        ]
    )

    order = np.argsort(-anomaly_scores, kind="stable")
    sorted_scores = anomaly_scores[order]
    sorted_sweep = sweep_scores[order]
    sorted_windows = window_ids[order]
    if sorted_scores.size == 0:
        return ThresholdChoice(SWEEP_START_THRESHOLD, 0.0)

    # Candidate c (after the no-detection one) detects the points up to the last one scoring its value.
    last_of_value = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    thresholds = sorted_scores[last_of_value]
    top = float(sorted_scores[0])
    has_empty_candidate = top != SWEEP_START_THRESHOLD
    empty_threshold = SWEEP_START_THRESHOLD if top < SWEEP_START_THRESHOLD else float(np.nextafter(top, np.inf))
    offset = int(has_empty_candidate)
    n_candidates = len(thresholds) + offset
    candidate_of_point = np.searchsorted(last_of_value, np.arange(sorted_scores.size), side="left") + offset

    # False positives: NAB adds each one's S(t) in walking order (a sequential cumulative sum).
    false_positive_sum = np.cumsum(np.where(sorted_windows < 0, sorted_sweep, 0.0))
    totals = np.zeros(n_candidates)
    totals[offset:] = false_positive_sum[last_of_value]

    # Windows: each one's part is -fn_weight until its first detection, then the largest S(t) detected so far.
    in_window = np.flatnonzero(sorted_windows >= 0)
    window_first_seen = pd.unique(sorted_windows[in_window])
    by_window = in_window[np.argsort(sorted_windows[in_window], kind="stable")]
    bounds = np.searchsorted(sorted_windows[by_window], window_first_seen, side="left")
    counts = np.searchsorted(sorted_windows[by_window], window_first_seen, side="right") - bounds
    part = np.empty(n_candidates)
    for start, count in zip(bounds.tolist(), counts.tolist(), strict=True):
        members = by_window[start : start + count]
        part.fill(-np.inf)
        np.maximum.at(part, candidate_of_point[members], sorted_sweep[members])
        np.maximum.accumulate(part, out=part)
        np.maximum(part, -costs.fn_weight, out=part)
        totals += part

    best = int(np.argmax(totals))  # the first maximum: NAB's stable sort by decreasing score keeps it first
    chosen = empty_threshold if (has_empty_candidate and best == 0) else float(thresholds[best - offset])
    return ThresholdChoice(chosen, float(totals[best]))


def null_score(
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]],
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> float:
    """The corpus raw score of a detector that never fires: ``-fn_weight`` per window with a scored point.

    NAB takes the null detector's optimised raw score (a constant 0.5 score: never firing beats firing
    everywhere), which is this on NAB's corpus.
    """
    costs = _cost_matrix(profile)
    swept = _swept_corpus(corpus, costs, strict_timestamps)
    return -costs.fn_weight * sum(int((s.window_ends >= s.first_scored).sum()) for s in swept)


def perfect_score(
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]],
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> float:
    """The corpus raw score of a detector that fires exactly once per window, at its first scored point, and
    nowhere else: ``tp_weight`` per window that starts after the probationary period (NAB's ``Runner.normalize``
    takes ``tp_weight`` times the number of windows in the labels file; NAB's windows all start after it)."""
    costs = _cost_matrix(profile)
    total = 0.0
    for s in _swept_corpus(corpus, costs, strict_timestamps):
        scored = s.window_ends >= s.first_scored
        first_scored_points = np.maximum(s.window_starts[scored], s.first_scored)
        total += float(s.sweep_scores[first_scored_points].sum())
    return total


def normalised_score(
    raw_score: float,
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]],
    profile: str | CostMatrix = "standard",
    *,
    strict_timestamps: bool = True,
) -> float:
    """The NAB score of a corpus raw score: ``100 * (raw - null) / (perfect - null)`` with the null and
    perfect raw scores (:func:`null_score`, :func:`perfect_score`) computed on the same ``corpus``, so 0 for
    a detector that never fires and 100 for a perfect one (Lavin & Ahmad 2015; NAB ``Runner.normalize``)."""
    null = null_score(corpus, profile, strict_timestamps=strict_timestamps)
    perfect = perfect_score(corpus, profile, strict_timestamps=strict_timestamps)
    return normalise_raw_score(raw_score, null, perfect)


# ---------------------------------------------------------------------------------------------------------
# Input checks


def _swept_corpus(
    corpus: Sequence[NabSeries | tuple[Any, Any, Any]], costs: CostMatrix, strict_timestamps: bool
) -> list[_SweptSeries]:
    return [_sweep_series(_as_series(entry, i), costs, strict_timestamps) for i, entry in enumerate(corpus)]


def _as_series(entry: NabSeries | tuple[Any, Any, Any], position: int) -> NabSeries:
    if isinstance(entry, NabSeries):
        return entry
    if not isinstance(entry, tuple | list) or len(entry) != 3:
        raise UserError(f"corpus entry {position} must be (timestamps, anomaly_scores, windows)")
    return NabSeries(*entry)


def _cost_matrix(profile: str | CostMatrix) -> CostMatrix:
    if isinstance(profile, CostMatrix):
        return profile
    if profile not in NAB_PROFILES:
        raise UserError(f"unknown NAB profile {shown(str(profile))}; choose one of {', '.join(NAB_PROFILES)}")
    return NAB_PROFILES[profile]


def load_profiles(path: str | Path) -> dict[str, CostMatrix]:
    """The profiles of a NAB ``profiles.json`` (``name -> {"CostMatrix": {"tpWeight": ..., ...}}``)."""
    with open(path, encoding="utf-8") as handle:
        try:
            raw = json.load(handle)
        except json.JSONDecodeError as error:
            raise UserError(f"{path} is not JSON ({error.msg} at line {error.lineno}); give NAB's profiles") from None
    profiles: dict[str, CostMatrix] = {}
    try:
        for name, profile in raw.items():
            matrix = profile["CostMatrix"]
            profiles[name] = CostMatrix(
                tp_weight=float(matrix["tpWeight"]),
                fp_weight=float(matrix["fpWeight"]),
                fn_weight=float(matrix["fnWeight"]),
                tn_weight=float(matrix.get("tnWeight", 1.0)),
            )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise UserError(
            f"{path}: each profile must be {{'CostMatrix': {{'tpWeight', 'fpWeight', 'fnWeight'}}}} numbers"
        ) from None
    return profiles


def _timestamp(value: Any, where: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise UserError(f"{shown(str(value))} in {shown(where)} is not a timestamp") from None
    if stamp is pd.NaT:
        raise UserError(f"a missing timestamp in {shown(where)}")
    return stamp


def _checked_timestamps(timestamps: Sequence[Any] | pd.DatetimeIndex | np.ndarray, strict: bool) -> pd.DatetimeIndex:
    try:
        index = pd.DatetimeIndex(pd.to_datetime(timestamps))
    except (ValueError, TypeError) as error:
        raise UserError(f"the timestamps cannot be read as dates ({str(error).splitlines()[0]})") from None
    if index.ndim != 1 or len(index) == 0:
        raise UserError("a series to score needs at least one timestamp")
    if index.hasnans:
        raise UserError(f"timestamp {int(np.flatnonzero(index.isna())[0])} is missing")
    if strict and len(index) > 1:
        steps = np.diff(index.asi8)
        if (steps <= 0).any():
            bad = int(np.flatnonzero(steps <= 0)[0]) + 1
            raise UserError(
                f"timestamps are not strictly increasing: {index[bad]} (position {bad}) follows {index[bad - 1]};"
                " pass strict_timestamps=False to score by position as NAB does"
            )
    return index


def _checked_scores(anomaly_scores: Sequence[float] | np.ndarray, n_points: int) -> np.ndarray:
    try:
        scores = np.asarray(anomaly_scores, dtype=np.float64)
    except (ValueError, TypeError):
        raise UserError("the anomaly scores must be numbers") from None
    if scores.ndim != 1 or len(scores) != n_points:
        raise UserError(f"{scores.size} anomaly scores for {n_points} timestamps; give one score per timestamp")
    if not np.isfinite(scores).all():
        raise UserError(f"anomaly score {int(np.flatnonzero(~np.isfinite(scores))[0])} is not a finite number")
    return scores


def _checked_threshold(threshold: float) -> float:
    value = float(threshold)
    if not math.isfinite(value):
        raise UserError(f"the NAB threshold must be a finite number, got {value}")
    return value


def _positions_of(stamp: pd.Timestamp, index: pd.DatetimeIndex) -> np.ndarray:
    """Where ``stamp`` occurs in ``index`` (compared as UTC nanoseconds)."""
    return np.flatnonzero(index.as_unit("ns").asi8 == stamp.as_unit("ns").value)


def _window_indices(windows: Sequence[tuple[Any, Any]], index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """The first and last point of each window; each limit must occur exactly once in the series (as NAB's
    labeler requires), and the windows must be in order and not overlap."""
    starts: list[int] = []
    ends: list[int] = []
    for window in windows:
        if len(window) != 2:
            raise UserError(f"window {window!r} must be a (start, end) pair of timestamps")
        start, end = (_timestamp(t, "the windows") for t in window)
        if not (start.tz is None) == (end.tz is None) == (index.tz is None):
            raise UserError(f"window [{start}, {end}] and the series' timestamps must all have a time zone, or none")
        if end < start:
            raise UserError(f"window [{start}, {end}] ends before it starts")
        at_start, at_end = (_positions_of(stamp, index) for stamp in (start, end))
        if len(at_start) != 1 or len(at_end) != 1:
            missing = start if len(at_start) != 1 else end
            if start < index.min() or end > index.max():
                reason = f"is outside the series ({index.min()} to {index.max()})"
            elif len(at_start) == 0 or len(at_end) == 0:
                reason = f"has a limit ({missing}) that is not one of the series' timestamps"
            else:
                reason = f"has a limit ({missing}) that occurs more than once in the series"
            raise UserError(f"window [{start}, {end}] {reason}; each limit must be one timestamp of the series")
        first, last = int(at_start[0]), int(at_end[0])
        if last < first:
            raise UserError(f"window [{start}, {end}] ends at an earlier position than it starts in the series")
        if ends and first <= ends[-1]:
            raise UserError(f"window [{start}, {end}] starts before the previous window ends; sort and merge them")
        if first == last and last < len(index) - 1:
            raise UserError(
                f"window [{start}, {end}] holds one point: NAB scores the points after a window by their distance"
                " divided by (window width - 1); widen it"
            )
        starts.append(first)
        ends.append(last)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
