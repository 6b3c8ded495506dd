"""Anomaly scores for every point of a series from VAEs over its windows, causal or in batch.

- **Causal** (what NAB requires and a monitoring system can do): the first model learns from the
  probationary period only (NAB's: the first min(⌊0.15 N⌋, 750) points); every ``refit_every`` points a new
  model learns from everything seen so far; each point is scored by the model of its segment from the
  window that ends at it, so no score uses a later point.
- **Batch**: one model learns from the whole series and scores it (the mean over the windows that cover a
  point, or the window that ends at it): for exploring data already complete, not for reporting a
  detector's accuracy.

With ``mask_flagged``, points already flagged are left out of later refits (masked, as Donut's M-ELBO leaves
out labelled anomalies) and, in a second scoring round, imputed wherever they sit inside the window of a
later point, so one anomaly does not raise the scores of the points after it (the first round's flags are
those of earlier points only, so the second round stays causal).

Each model's raw scores are turned into probabilities in [0, 1] by its training scores
(:class:`TailCalibration`); a point is an outlier when that probability reaches ``1 - risk`` (the POT
threshold, Siffer et al. 2017) or, with ``threshold="quantile"``, when its raw score exceeds the ``quantile``
of the training scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vaelab.applications.series.calibration import TailCalibration
from vaelab.applications.series.thresholds import quantile_threshold
from vaelab.applications.series.window_vae import WindowVAE, WindowVAESettings
from vaelab.errors import UserError
from vaelab.evaluation.series.nab import probationary_length

MODES = ("causal", "batch")
THRESHOLDS = ("pot", "quantile")
MIN_TRAINING_WINDOWS = 32
CALIBRATION_POINTS = 5000
"""A model's raw scores are calibrated on the scores of its last this many training points (the most
recent behaviour, at a cost that does not grow with the history)."""


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

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"unknown mode {self.mode!r}; use one of: {', '.join(MODES)}")
        if self.threshold not in THRESHOLDS:
            raise UserError(f"unknown threshold {self.threshold!r}; use one of: {', '.join(THRESHOLDS)}")
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
    ``make`` (default: a :class:`WindowVAE` of ``settings.model``)."""
    make = make or (lambda: WindowVAE(settings.model))
    window = settings.model.window
    if len(values) < window:
        raise UserError(
            f"the series has {len(values)} points but the window is {window}; use a shorter --window or a longer series"
        )
    if settings.mode == "batch":
        return _segments(values, settings, make, [0, len(values)], training_ends=[len(values)])
    start = probationary_length(len(values))
    if start < window - 1 + MIN_TRAINING_WINDOWS:
        raise UserError(
            f"the probationary period ({start} points, 15 % of the series) holds fewer than {MIN_TRAINING_WINDOWS} "
            f"windows of {window} points; use a shorter --window, a longer series, or --batch"
        )
    step = settings.refit_every or len(values)
    boundaries = [*range(start, len(values), step), len(values)]
    return _segments(values, settings, make, boundaries, training_ends=boundaries[:-1])


def _segments(
    values: np.ndarray,
    settings: DetectorSettings,
    make: Callable[[], WindowScorer],
    boundaries: list[int],
    training_ends: list[int],
) -> SeriesScores:
    """Points ``boundaries[i]:boundaries[i + 1]`` scored by a model trained on ``values[:training_ends[i]]``
    (batch mode: one segment, the whole series, trained on all of it)."""
    n = len(values)
    raw, anomaly, outlier = np.full(n, np.nan), np.zeros(n), np.zeros(n, dtype=bool)
    fit_seconds = score_seconds = 0.0
    window = settings.model.window
    causal = settings.mode == "causal"
    for begin, end, trained_to in zip(boundaries[:-1], boundaries[1:], training_ends, strict=True):
        began = time.perf_counter()
        seen = np.where(outlier[:trained_to, None], np.nan, values[:trained_to]) if settings.mask_flagged else None
        detector = make().fit(values[:trained_to] if seen is None else seen)
        fit_seconds += time.perf_counter() - began
        began = time.perf_counter()
        training_scores = detector.scores(values[max(0, trained_to - CALIBRATION_POINTS) : trained_to], "last")
        calibration = TailCalibration.fit_scores(training_scores)
        cut = quantile_threshold(training_scores[np.isfinite(training_scores)], settings.quantile)
        first = max(0, begin - window + 1)  # the windows that end in the segment start here
        aggregation = "last" if causal else settings.aggregation
        rounds = 2 if settings.mask_flagged and causal else 1  # the second imputes the first round's flags
        for _ in range(rounds):
            hidden = outlier[first:end] if rounds == 2 else None
            segment = detector.scores(values[first:end], aggregation, hidden)[begin - first :]
            raw[begin:end] = segment
            anomaly[begin:end] = np.nan_to_num(calibration.probability(segment), nan=0.0)
            if settings.threshold == "pot":
                outlier[begin:end] = anomaly[begin:end] >= 1.0 - settings.risk
            else:
                outlier[begin:end] = np.nan_to_num(segment, nan=-np.inf) > cut
        score_seconds += time.perf_counter() - began
    return SeriesScores(raw, anomaly, outlier, boundaries[0], len(training_ends), fit_seconds, score_seconds)
