"""Baseline detectors that a time-series anomaly benchmark compares VAEs against.

* ``windowed_gaussian_scores``: the windowed Gaussian detector of the Numenta Anomaly Benchmark (Lavin &
  Ahmad 2015, "Evaluating real-time anomaly detection algorithms - the Numenta Anomaly Benchmark"; NAB's
  ``nab/detectors/gaussian/windowedGaussian_detector.py``), reimplemented to give NAB's ``anomaly_score``
  column. Each point is scored against a Gaussian fitted to the points before it: ``1 - Q(|z|)``, with Q
  the standard normal tail probability and z the point's standard score under the mean and (population)
  standard deviation of the window. The window grows from the first point up to ``window_size`` points,
  then moves ``step_size`` points at a time, once that many new points have arrived, so it is refitted
  only every ``step_size`` points. A zero standard deviation is replaced by 1e-6. The first point has no
  window and scores 0. NAB's probationary period plays no part in this detector: NAB's scorer leaves
  those points out, the detector scores them all.
* ``IsolationForestBaseline`` and ``PCABaseline``: detectors fitted on a training part of a series that
  score its sliding windows (an isolation forest; the reconstruction error from the leading principal
  components), one score per point, higher = more anomalous.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Protocol, Self

import numpy as np
from scipy.special import erfc
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

from vaelab.data.series import sliding_windows
from vaelab.errors import UserError

ZERO_STD_REPLACEMENT = 1e-6  # NAB's stand-in for the standard deviation of a constant window


def windowed_gaussian_scores(values: np.ndarray, window_size: int = 6400, step_size: int = 100) -> np.ndarray:
    """NAB's windowed Gaussian anomaly score of each point of ``values: (N,)``, in [0, 1], (N,); the
    defaults are NAB's (tuned on its corpus)."""
    series = finite_series(values)
    if series.ndim != 1:
        raise UserError(f"the windowed Gaussian scores one series: values must be 1-D, got shape {series.shape}")
    check_positive(window_size=window_size, step_size=step_size)
    if step_size > window_size:
        raise UserError(f"step_size ({step_size}) must not exceed window_size ({window_size})")
    scores = np.zeros(len(series))
    if len(series) > 1:
        mean, std = preceding_window_moments(series, window_size, step_size)
        scores[1:] = 1.0 - normal_tail(series[1:], mean, np.where(std == 0.0, ZERO_STD_REPLACEMENT, std))
    return scores


def preceding_window_moments(series: np.ndarray, window_size: int, step_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean and population standard deviation of the window that each of points 1..N-1 of ``series``
    is scored against, (N-1,) each.

    Each distinct window is summarised by ``np.mean`` and ``np.std`` on its own, as NAB does, rather than
    by running sums: the two round differently, and NAB's zero test on the standard deviation turns that
    rounding into a different score (a constant run of 0.1 has a standard deviation of 1e-17 in numpy, not
    0, so NAB scores the next 0.1 at 0.84, not 0.5). This costs O(window_size ** 2) for the growing windows.
    """
    start, stop = preceding_windows(len(series), window_size, step_size)
    first_use = np.r_[True, (start[1:] != start[:-1]) | (stop[1:] != stop[:-1])]
    windows = [series[a:b] for a, b in zip(start[first_use], stop[first_use], strict=True)]
    moments = np.array([(np.mean(window), np.std(window)) for window in windows])
    used = np.cumsum(first_use) - 1  # the index in ``windows`` of the window each point uses
    return moments[used, 0], moments[used, 1]


def preceding_windows(length: int, window_size: int, step_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The window ``series[start:stop]`` that each of points i = 1..length-1 is scored against, as the
    arrays (start, stop), (length-1,) each. Point i < window_size sees all points before it. From then on
    the window holds ``window_size`` points and moves by ``step_size`` once ``step_size`` new points have
    arrived: point i sees the points from ``step_size * ((i - window_size) // step_size)`` on."""
    point = np.arange(1, length)
    start = step_size * (np.maximum(point - window_size, 0) // step_size)
    return start, start + np.minimum(point, window_size)


def normal_tail(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The Q-function as NAB applies it: the probability that a normal(mean, std) sample exceeds x,
    with x below the mean first reflected about it (so it is at most 1/2)."""
    reflected = np.where(x < mean, 2.0 * mean - x, x)
    return 0.5 * erfc((reflected - mean) / std / math.sqrt(2.0))


class WindowBaseline(Protocol):
    """A detector fitted on a training part of a series that scores each point by the window of
    ``window`` points ending at it, higher = more anomalous (NaN for the first ``window - 1`` points)."""

    window: int

    def fit(self, train_values: np.ndarray) -> Self:
        """Fit on ``train_values: (N,)`` or ``(N, channels)``."""
        ...

    def score(self, values: np.ndarray) -> np.ndarray:
        """One score per point of ``values: (N,)`` or ``(N, channels)``, (N,)."""
        ...


class ScaledWindowDetector(ABC):
    """The shared part of the window baselines: validating the series, standardising each channel with
    the mean and standard deviation of the training part, cutting the windows and placing each window's
    score at its last point. Subclasses fit and score the flattened windows, (windows, window * channels)."""

    def __init__(self, window: int) -> None:
        check_positive(window=window)
        self.window = window
        self.scaler: StandardScaler | None = None

    def fit(self, train_values: np.ndarray) -> Self:
        """Fit the scaler and the detector on ``train_values: (N,)`` or ``(N, channels)``."""
        series = as_channels(finite_series(train_values, "train_values"))
        if len(series) <= self.window:
            raise UserError(
                f"train_values has {len(series)} points; fitting on windows of {self.window} needs at least "
                f"{self.window + 1} (two windows): give a longer training part or a smaller window"
            )
        self.scaler = StandardScaler().fit(series)
        self.fit_windows(flat_windows(self.scaler.transform(series), self.window))
        return self

    def score(self, values: np.ndarray) -> np.ndarray:
        """The score of the window ending at each point of ``values: (N,)`` or ``(N, channels)``, (N,),
        higher = more anomalous; NaN for the first ``window - 1`` points, which end no full window."""
        if self.scaler is None:
            raise UserError(f"{type(self).__name__} is not fitted: call fit(train_values) before score")
        series = as_channels(finite_series(values))
        if series.shape[1] != self.scaler.n_features_in_:
            raise UserError(
                f"values has {series.shape[1]} channel(s) but the detector was fitted on "
                f"{self.scaler.n_features_in_}; score a series with the channels of the training part"
            )
        scores = np.full(len(series), np.nan)
        scores[self.window - 1 :] = self.score_windows(flat_windows(self.scaler.transform(series), self.window))
        return scores

    @abstractmethod
    def fit_windows(self, features: np.ndarray) -> None:
        """Fit the detector on the flattened standardised training windows."""

    @abstractmethod
    def score_windows(self, features: np.ndarray) -> np.ndarray:
        """One score per flattened standardised window, higher = more anomalous."""


class IsolationForestBaseline(ScaledWindowDetector):
    """An isolation forest (Liu, Ting & Zhou 2008; scikit-learn's ``IsolationForest``) on the standardised
    sliding windows. A window scores ``-score_samples``, the anomaly score s(x, n) of the paper, in (0, 1]."""

    def __init__(self, window: int = 32, n_estimators: int = 100, random_state: int = 0) -> None:
        super().__init__(window)
        check_positive(n_estimators=n_estimators)
        self.forest = IsolationForest(n_estimators=n_estimators, random_state=random_state)

    def fit_windows(self, features: np.ndarray) -> None:
        self.forest.fit(features)

    def score_windows(self, features: np.ndarray) -> np.ndarray:
        return -self.forest.score_samples(features)


class PCABaseline(ScaledWindowDetector):
    """The reconstruction error of the standardised sliding windows from their leading principal
    components: ``n_components`` of them, or else the fewest that explain ``explained_variance`` of the
    variance of the training windows. A window scores the mean squared difference between it and its
    reconstruction. The decomposition is an exact SVD, so no random state is needed."""

    def __init__(self, window: int = 32, n_components: int | None = None, explained_variance: float = 0.9) -> None:
        super().__init__(window)
        if n_components is not None:
            check_positive(n_components=n_components)
        if not 0.0 < explained_variance < 1.0:
            raise UserError(f"explained_variance must be between 0 and 1 (exclusive), got {explained_variance!r}")
        self.n_components = None if n_components is None else int(n_components)
        self.pca = PCA(n_components=self.n_components or explained_variance, svd_solver="full")

    def fit_windows(self, features: np.ndarray) -> None:
        most = min(features.shape)
        if self.n_components is not None and self.n_components > most:
            raise UserError(
                f"n_components ({self.n_components}) exceeds what {features.shape[0]} training windows of "
                f"{features.shape[1]} values allow ({most}); ask for fewer components"
            )
        self.pca.fit(features)

    def score_windows(self, features: np.ndarray) -> np.ndarray:
        reconstruction = self.pca.inverse_transform(self.pca.transform(features))
        return np.mean((features - reconstruction) ** 2, axis=1)


def flat_windows(series: np.ndarray, window: int) -> np.ndarray:
    """The windows of ``series: (N, channels)`` flattened for a scikit-learn model, (N - window + 1,
    window * channels); a copy, as a model needs the rows side by side."""
    windows = sliding_windows(series, window)  # (n, window, channels), a view
    return windows.reshape(len(windows), -1)


def as_channels(series: np.ndarray) -> np.ndarray:
    """``series`` with a channel axis, (N, channels)."""
    return series[:, None] if series.ndim == 1 else series


def finite_series(values: np.ndarray, name: str = "values") -> np.ndarray:
    """``values`` as a float array of shape (N,) or (N, channels) with only finite numbers."""
    try:
        series = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise UserError(f"{name} must be numbers: {error}") from None
    if series.ndim not in (1, 2):
        raise UserError(f"{name} must have shape (N,) or (N, channels), got {series.shape}")
    if not np.isfinite(series).all():
        bad = int(np.flatnonzero(~np.isfinite(series).reshape(len(series), -1).all(axis=1))[0])
        raise UserError(f"{name} has a NaN or infinite value at point {bad}; fill or drop the missing points first")
    return series


def check_positive(**sizes: int) -> None:
    """Raise a UserError naming the first of ``sizes`` that is not a positive integer."""
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise UserError(f"{name} must be a positive integer, got {size!r}")
