"""Anomaly scores for every point of a series from VAEs over its windows, causal or in batch.

- **Causal** (what NAB requires and a monitoring system can do): the first model learns from the
  probationary period only (NAB's: the first min(⌊0.15 N⌋, 750) points); every ``refit_every`` points a new
  model learns from everything seen so far; each point is scored by the model of its segment from the
  window that ends at it, so no score uses a later point.
- **Batch**: one model learns from the whole series and scores it (the mean over the windows that cover
  a point, or the window that ends at it): for exploring data already complete, not for reporting a
  detector's accuracy.

Every model learns from the points it is given but their last fifth, which it holds out to calibrate its
scores (``CALIBRATION_FRACTION``).

With ``mask_flagged``, points already flagged are left out of later refits (masked, as Donut's M-ELBO leaves
out labelled anomalies) and, in a second scoring round, imputed wherever they sit inside the window of a
later point, so one anomaly does not raise the scores of the points after it (the first round's flags are
those of earlier points only, so the second round stays causal).

With ``adapt``, a causal detector that flags half the points of a window takes it for a lasting change
(a new level, a new pattern) rather than an anomaly: it refits at once, learning from those points instead
of masking them.

Each model's raw scores are turned into probabilities in [0, 1] by the scores of the points it held out
(:class:`TailCalibration`); a point is an outlier when that probability reaches ``1 - risk`` (the POT
threshold, Siffer et al. 2017, fixed for the segment); with ``threshold="spot"``, when its raw score tops
SPOT's threshold (the same POT, then updated by every normal score of the segment in turn: Siffer et al. 2017's
streaming algorithm); with ``threshold="quantile"``, when its raw score exceeds the ``quantile`` of the
training scores.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vaelab.applications.series.calibration import TailCalibration
from vaelab.applications.series.thresholds import quantile_threshold, spot, tail_level
from vaelab.applications.series.window_vae import WindowVAE, WindowVAESettings
from vaelab.errors import UserError
from vaelab.evaluation.series.nab import probationary_length

MODES = ("causal", "batch")
THRESHOLDS = ("pot", "spot", "quantile")
MIN_TRAINING_WINDOWS = 32
MIN_WINDOW = 8  # a shorter window than asked, for a short probationary period, is never shorter than this
CALIBRATION_FRACTION, CALIBRATION_POINTS = 0.2, 5000
"""Each model learns from all but the last fifth (at most 5000 points) of the points seen, and its raw scores
are calibrated on the scores of those held-out points: scores of the points a model learnt from are
optimistic, and calibrating on them flags far more than ``risk`` of normal points."""


class WindowScorer(Protocol):
    """What the detector refits and reads: a model of a series' windows (:class:`WindowVAE`, or a baseline
    wrapped to this shape by the benchmark)."""

    def fit(self, values: np.ndarray) -> WindowScorer: ...

    def scores(self, values: np.ndarray, aggregation: str = "last", hidden: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class DetectorSettings:
    """How a series is scored: ``model`` the window VAE, ``mode`` causal or batch, ``refit_every`` points
    between causal refits (None: only the probationary model), ``aggregation`` of batch scores, and the
    outlier threshold."""

    model: WindowVAESettings = field(default_factory=WindowVAESettings)
    mode: str = "causal"
    refit_every: int | None = 2000
    aggregation: str = "mean"  # batch mode; causal mode always reads the window ending at the point
    threshold: str = "pot"
    risk: float = 1e-3  # POT: the probability that a normal point is flagged
    quantile: float = 0.99  # threshold="quantile"
    mask_flagged: bool = True  # flagged points: left out of refits, and imputed in the windows of later points
    adapt: bool = False  # refit early where half a window's points are flagged (a lasting change); off: NAB chose
    onset_span: int = 480  # > 0: a point keeps its score only where it tops the scores of this many points before it

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"unknown mode {self.mode!r}; use one of: {', '.join(MODES)}")
        if self.threshold not in THRESHOLDS:
            raise UserError(f"unknown threshold {self.threshold!r}; use one of: {', '.join(THRESHOLDS)}")
        if self.onset_span < 0:
            raise UserError(f"onset_span must be 0 (off) or a number of points, not {self.onset_span}")
        if self.refit_every is not None and self.refit_every < 1:
            raise UserError(f"refit_every must be at least 1 point, not {self.refit_every}")
        for name in ("risk", "quantile"):
            if not 0 < getattr(self, name) < 1:
                raise UserError(f"{name} must lie strictly between 0 and 1, not {getattr(self, name)}")


@dataclass(frozen=True)
class SeriesScores:
    """Per grid point: ``raw`` (minus the reconstruction probability; NaN where not scored), ``anomaly``
    in [0, 1] (0 where not scored), ``outlier`` (bool); ``scored_from`` the first point scored (the end of
    the probationary period in causal mode); ``fits`` models trained and the seconds spent."""

    raw: np.ndarray
    anomaly: np.ndarray
    outlier: np.ndarray
    scored_from: int
    fits: int
    fit_seconds: float
    score_seconds: float


def detect(
    values: np.ndarray, settings: DetectorSettings, make: Callable[[], WindowScorer] | None = None
) -> SeriesScores:
    """Scores of every point of ``values`` (N, C) on the series grid (NaN where missing), each model made by
    ``make`` (default: a :class:`WindowVAE` of the settings :func:`plan` gives)."""
    settings = plan(values, settings)
    model = settings.model
    make = make or (lambda: WindowVAE(model))
    start = probationary_length(len(values)) if settings.mode == "causal" else 0
    return _at_onsets(_segments(values, settings, make, start), settings.onset_span)


def plan(values: np.ndarray, settings: DetectorSettings) -> DetectorSettings:
    """The settings :func:`detect` runs with on ``values`` (N, C): a UserError where the series is too short for
    them; in causal mode, the window shortened (with a warning) where the probationary period holds fewer than
    ``MIN_TRAINING_WINDOWS`` windows to learn from."""
    window = settings.model.window
    if len(values) < window:
        raise UserError(
            f"the series has {len(values)} points but the window is {window}; use a shorter --window or a longer series"
        )
    if settings.mode == "batch":
        return settings
    start = probationary_length(len(values))
    fitting = start - int(CALIBRATION_FRACTION * start) - MIN_TRAINING_WINDOWS + 1  # the longest window that fits
    if fitting >= window:
        return settings
    if fitting < MIN_WINDOW:
        raise UserError(
            f"the probationary period ({start} points, 15 % of the series) is too short to learn from; give a "
            "longer series, or use --batch"
        )
    warnings.warn(
        f"the probationary period ({start} points, 15 % of the series) holds fewer than {MIN_TRAINING_WINDOWS} "
        f"windows of {window} points to learn from: using windows of {fitting} points",
        stacklevel=3,
    )
    return dataclasses.replace(settings, model=dataclasses.replace(settings.model, window=fitting))


def _at_onsets(scores: SeriesScores, span: int) -> SeriesScores:
    """The scores and flags kept at onsets only (``span`` 0: as they are)."""
    if span == 0:
        return scores
    anomaly = onsets(scores.anomaly, span)
    return dataclasses.replace(scores, anomaly=anomaly, outlier=scores.outlier & (anomaly > 0))


def onsets(anomaly: np.ndarray, span: int) -> np.ndarray:
    """``anomaly`` (N,) where a point's score exceeds every score of the ``span`` points before it, else 0: the
    onset of each rise in the score, as a monitoring system raises one alarm per episode (NAB counts the
    first detection in a window and every false alarm). Uses no later point."""
    before = np.full(len(anomaly), -np.inf)
    for lag in range(1, span + 1):  # the maximum of the previous ``span`` scores, one shifted copy at a time
        np.maximum(before[lag:], anomaly[:-lag], out=before[lag:])
    return np.where(anomaly > before, anomaly, 0.0)


def _segments(
    values: np.ndarray, settings: DetectorSettings, make: Callable[[], WindowScorer], start: int
) -> SeriesScores:
    """Segments from ``start`` on, each scored by a model of the points before it (batch mode: one segment,
    the whole series, scored by a model of all of it)."""
    n = len(values)
    raw, anomaly, outlier = np.full(n, np.nan), np.zeros(n), np.zeros(n, dtype=bool)
    lasting = np.zeros(n, dtype=bool)  # flagged points of a lasting change: learnt from, not masked
    fit_seconds = score_seconds = 0.0
    window = settings.model.window
    causal = settings.mode == "causal"
    begin, fits = start, 0
    while begin < n:
        trained_to = begin if causal else n
        end = min(begin + (settings.refit_every or n), n) if causal else n
        began = time.perf_counter()
        held_out = min(int(CALIBRATION_FRACTION * trained_to), CALIBRATION_POINTS)
        learnt = trained_to - held_out
        masked = outlier[:learnt] & ~lasting[:learnt] if settings.mask_flagged else np.zeros(learnt, dtype=bool)
        detector = make().fit(np.where(masked[:, None], np.nan, values[:learnt]))
        fits += 1
        fit_seconds += time.perf_counter() - began
        began = time.perf_counter()
        # the windows ending at the held-out points, which reach back into the learnt ones
        training_scores = detector.scores(values[max(0, learnt - window + 1) : trained_to], "last")
        calibration = TailCalibration.fit_scores(training_scores)
        cut = quantile_threshold(training_scores[np.isfinite(training_scores)], settings.quantile)
        first = max(0, begin - window + 1)  # the windows that end in the segment start here
        aggregation = "last" if causal else settings.aggregation
        rounds = 2 if settings.mask_flagged and causal else 1  # the second imputes the first round's flags
        for _ in range(rounds):
            hidden = outlier[first:end] & ~lasting[first:end] if rounds == 2 else None
            segment = detector.scores(values[first:end], aggregation, hidden)[begin - first :]
            raw[begin:end] = segment
            anomaly[begin:end] = np.nan_to_num(calibration.probability(segment), nan=0.0)
            pot_alarms = anomaly[begin:end] >= 1.0 - settings.risk
            if settings.threshold == "pot":
                outlier[begin:end] = pot_alarms
            elif settings.threshold == "spot":
                outlier[begin:end] = _spot_alarms(training_scores, segment, settings.risk, pot_alarms)
            else:
                outlier[begin:end] = np.nan_to_num(segment, nan=-np.inf) > cut
        changed = _lasting_change(outlier, begin, end, window) if causal and settings.adapt else None
        if changed is not None:  # refit from the point where the series changed for good
            lasting[changed - window + 1 : changed + 1] |= outlier[changed - window + 1 : changed + 1]
            end = changed + 1
        score_seconds += time.perf_counter() - began
        begin = end
    return SeriesScores(raw, anomaly, outlier, start, fits, fit_seconds, score_seconds)


def _spot_alarms(
    calibration_scores: np.ndarray, segment: np.ndarray, risk: float, pot_alarms: np.ndarray
) -> np.ndarray:
    """(len(segment),) SPOT's alarms over the segment's raw scores in order, calibrated on the held-out
    scores, its initial level lowered for few of them as :class:`TailCalibration` does; points without a score
    (NaN) are neither alarms nor seen by the stream. Where SPOT cannot be calibrated on the held-out scores
    (too few or all equal over the initial threshold, or a risk not below their share), the segment keeps
    ``pot_alarms``, the flags of the calibrated probabilities."""
    calibration_scores = calibration_scores[np.isfinite(calibration_scores)]
    scored = np.isfinite(segment)
    alarms = np.zeros(len(segment), dtype=bool)
    try:
        alarms[scored] = spot(calibration_scores, segment[scored], risk, tail_level(calibration_scores.size)).alarms
    except UserError:
        return pot_alarms
    return alarms


def _lasting_change(outlier: np.ndarray, begin: int, end: int, window: int) -> int | None:
    """The first point t of ``[begin + window, end - 1)`` at which half the ``window`` points up to t are
    flagged (the series has changed rather than met an anomaly), or None."""
    flagged = np.convolve(outlier[:end].astype(np.int64), np.ones(window, dtype=np.int64))[:end]  # up to t
    candidates = np.flatnonzero(flagged[begin + window : end - 1] * 2 >= window)
    return None if len(candidates) == 0 else begin + window + int(candidates[0])
