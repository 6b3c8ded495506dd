"""Alarm thresholds from the scores of normal data: an empirical quantile, or extreme value theory.

Peaks over threshold (POT) follows Siffer et al. 2017 ("Anomaly Detection in Streams with Extreme Value
Theory", KDD): the scores above a high initial threshold ``t`` exceed it by amounts ``Y`` that, by the
Pickands-Balkema-de Haan theorem, follow a generalised Pareto distribution (GPD) with survival function

    P(Y > y) = (1 + γ y / σ)^(-1/γ)        (exp(-y / σ) in the limit γ -> 0)

fitted by maximum likelihood with Grimshaw's trick (their §3.3.2). With ``n`` scores of which ``N_t`` exceed
``t``, the score exceeded with probability ``q`` (the risk) is

    z_q = t + (σ / γ) ((q n / N_t)^(-γ) - 1)        (t - σ log(q n / N_t) in the limit γ -> 0)

SPOT runs POT on a stream: a score above ``z_q`` is an alarm and is left out of the model; a score between
``t`` and ``z_q`` is a new excess and the GPD is refitted. DSPOT does the same on each score minus the mean
of the ``depth`` normal scores before it, to follow a drifting level. This is our own code, written after
the authors' reference implementation (github.com/Amossys-team/SPOT); one difference: ``thresholds[i]`` is
the threshold score ``i`` was compared with, where the reference records the one after its update.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq

from vaelab.errors import UserError

DEFAULT_RISK = 1e-4
DEFAULT_LEVEL = 0.98
MIN_EXCESSES = 10
"""Fewest excesses over the initial threshold for a GPD fit (two parameters): below, the fit is noise."""
ROOT_GRID_SIZE = 48
"""Points per side (negative and positive x) at which the Grimshaw equation is scanned for sign changes."""


@dataclass(frozen=True)
class GPDFit:
    """A generalised Pareto distribution for the excesses: shape γ, scale σ > 0, and how it was fitted."""

    shape: float
    scale: float
    method: Literal["grimshaw", "moments"]


@dataclass(frozen=True)
class POTThreshold:
    """The POT threshold ``z_q`` (``threshold``) for risk ``q`` (``risk``), from the initial threshold ``t``,
    the ``num_excesses`` scores above it among ``num_scores``, and the GPD fitted to their excesses."""

    threshold: float
    initial_threshold: float
    num_excesses: int
    num_scores: int
    risk: float
    fit: GPDFit


@dataclass(frozen=True, eq=False)
class StreamThresholds:
    """Per test score: the threshold it was compared with, and whether it raised an alarm (score > threshold)."""

    thresholds: np.ndarray
    alarms: np.ndarray


def _checked_scores(scores: np.ndarray, name: str) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or scores.size == 0:
        raise UserError(
            f"the {name} scores must be a non-empty 1-D array, got shape {scores.shape}; give one score per point"
        )
    if not np.isfinite(scores).all():
        raise UserError(f"the {name} scores hold NaN or infinite values; drop the unscored points first")
    return scores


def _checked_probability(value: float, name: str, example: float) -> float:
    if not 0 < value < 1:
        raise UserError(f"{name} must lie strictly between 0 and 1, got {value}; choose e.g. {name}={example}")
    return value


def tail_level(num_scores: int, level: float = DEFAULT_LEVEL) -> float:
    """The initial threshold's quantile level for ``num_scores`` scores: ``level``, lowered for few scores so
    that at least ``2 * MIN_EXCESSES`` lie above it and a tail can be fitted (never below 0)."""
    return max(min(level, 1.0 - 2 * MIN_EXCESSES / max(num_scores, 1)), 0.0)


def quantile_threshold(train_scores: np.ndarray, q: float) -> float:
    """The empirical ``q``-quantile of the scores of normal data (linear interpolation): about a fraction
    ``1 - q`` of new normal scores will exceed it."""
    return float(np.quantile(_checked_scores(train_scores, "training"), _checked_probability(q, "q", 0.99)))


def gpd_log_likelihood(excesses: np.ndarray, shape: float, scale: float) -> float:
    """log L(γ, σ) = -N_t log σ - (1 + 1/γ) Σ log(1 + γ Y_i / σ) of the GPD, and -N_t log σ - Σ Y_i / σ at
    γ = 0 (Siffer et al. 2017, §3.3.2); -inf when an excess lies beyond the support (1 + γ Y / σ <= 0)."""
    if shape == 0:
        return float(-excesses.size * math.log(scale) - excesses.sum() / scale)
    ratio = shape * excesses / scale
    if np.any(ratio <= -1):
        return -math.inf
    return float(-excesses.size * math.log(scale) - (1 + 1 / shape) * np.log1p(ratio).sum())


def _grimshaw_equation(excesses: np.ndarray, x: np.ndarray | float) -> np.ndarray:
    """u(x) v(x) - 1, zero at the stationary points of the likelihood in x = γ / σ, with
    u(x) = mean 1 / (1 + x Y_i) and v(x) = 1 + mean log(1 + x Y_i) (Siffer et al. 2017, §3.3.2)."""
    x_times_excesses = np.multiply.outer(x, excesses)
    u = np.mean(1 / (1 + x_times_excesses), axis=-1)
    v = 1 + np.mean(np.log1p(x_times_excesses), axis=-1)
    return u * v - 1


def _root_search_intervals(excesses: np.ndarray) -> list[np.ndarray]:
    """Grids on the two intervals that hold the roots of the Grimshaw equation (Siffer et al. 2017, §3.3.2):
    (-1 / Y_max, 0), where 1 + x Y stays positive, and (0, 2 (mean - Y_min) / Y_min^2]. Both are denser
    near their ends, where the roots of strongly bounded or heavy tails lie."""
    lowest, mean, highest = excesses.min(), excesses.mean(), excesses.max()
    half = ROOT_GRID_SIZE // 2
    fraction_of_bound = np.r_[np.geomspace(1e-6, 0.5, half), 1 - np.geomspace(0.5, 1e-10, half)[1:]]
    negative = -fraction_of_bound[::-1] / highest
    positive_bound = 2 * (mean - lowest) / lowest**2
    positive = np.geomspace(min(1e-6 / mean, positive_bound / 2), positive_bound, ROOT_GRID_SIZE)
    return [negative, positive]


def _grimshaw_roots(excesses: np.ndarray) -> list[float]:
    """The roots x* of the Grimshaw equation: sign changes on the grids, each refined by Brent's method."""
    roots = []
    for grid in _root_search_intervals(excesses):
        values = _grimshaw_equation(excesses, grid)
        roots += list(grid[values == 0])
        for i in np.flatnonzero(values[:-1] * values[1:] < 0):
            roots.append(brentq(lambda x: float(_grimshaw_equation(excesses, x)), grid[i], grid[i + 1]))
    return roots


def _grimshaw_fit(excesses: np.ndarray) -> GPDFit | None:
    """The maximum-likelihood GPD by Grimshaw's trick (Siffer et al. 2017, §3.3.2): each root x* gives the
    candidate γ = v(x*) - 1, σ = γ / x*, and the one of highest likelihood wins, the exponential (γ = 0,
    σ = mean excess, the limit x* -> 0) included. None when the equation has no root: the profile likelihood
    is then monotone in x, rising toward x -> -1 / Y_max (γ -> -inf, where the GPD likelihood of any sample is
    unbounded; Smith 1985, "Maximum likelihood estimation in a class of nonregular cases", Biometrika), so no
    local maximum exists to serve as the estimate. This is typical of bounded tails with γ < -1."""
    roots = _grimshaw_roots(excesses)
    if not roots:
        return None
    candidates = [(0.0, float(excesses.mean()))]
    for x in roots:
        shape = float(np.mean(np.log1p(x * excesses)))
        candidates.append((shape, shape / x))
    shape, scale = max(candidates, key=lambda fit: gpd_log_likelihood(excesses, *fit))
    return GPDFit(shape, scale, "grimshaw")


def _moments_fit(excesses: np.ndarray) -> GPDFit:
    """The GPD matching the mean m and variance s² of the excesses (Hosking & Wallis 1987, "Parameter and
    Quantile Estimation for the Generalized Pareto Distribution", Technometrics):
    γ = (1 - m² / s²) / 2 and σ = m (1 + m² / s²) / 2."""
    mean = float(excesses.mean())
    mean_squared_over_variance = mean**2 / float(excesses.var(ddof=1))
    return GPDFit((1 - mean_squared_over_variance) / 2, mean * (1 + mean_squared_over_variance) / 2, "moments")


def fit_gpd(excesses: np.ndarray) -> GPDFit:
    """The GPD of positive ``excesses`` (not all equal): maximum likelihood by Grimshaw's trick, or the method
    of moments when the likelihood has no maximum (no root of the Grimshaw equation; see ``_grimshaw_fit``)."""
    excesses = np.asarray(excesses, dtype=float)
    if excesses.size < MIN_EXCESSES:
        raise UserError(
            f"only {excesses.size} scores exceed the initial threshold, and a tail fit needs {MIN_EXCESSES}; "
            "calibrate on more scores or lower the initial level"
        )
    if excesses.min() == excesses.max():
        raise UserError(
            f"the {excesses.size} scores over the initial threshold are all equal, so their tail has no shape to "
            "fit; give scores with more distinct values or lower the initial level"
        )
    return _grimshaw_fit(excesses) or _moments_fit(excesses)


def _tail_quantile(initial_threshold: float, fit: GPDFit, risk: float, num_scores: int, num_excesses: int) -> float:
    """z_q = t + (σ / γ) ((q n / N_t)^(-γ) - 1), and t - σ log(q n / N_t) at γ = 0 (Siffer et al. 2017, the
    POT quantile); computed as t + σ expm1(-γ log r) / γ with r = q n / N_t, exact near γ = 0 too."""
    log_ratio = math.log(risk * num_scores / num_excesses)
    if fit.shape == 0:
        return initial_threshold - fit.scale * log_ratio
    return initial_threshold + fit.scale * math.expm1(-fit.shape * log_ratio) / fit.shape


def _pot_from_excesses(initial_threshold: float, excesses: np.ndarray, num_scores: int, risk: float) -> POTThreshold:
    fit = fit_gpd(excesses)
    if risk * num_scores >= excesses.size:
        raise UserError(
            f"the risk q={risk} is not below the fraction of scores over the initial threshold "
            f"({excesses.size}/{num_scores}), so z_q would not lie in the tail; lower q or the initial level"
        )
    threshold = _tail_quantile(initial_threshold, fit, risk, num_scores, excesses.size)
    return POTThreshold(threshold, initial_threshold, excesses.size, num_scores, risk, fit)


def pot_threshold(
    calibration_scores: np.ndarray, risk: float = DEFAULT_RISK, level: float = DEFAULT_LEVEL
) -> POTThreshold:
    """The POT threshold ``z_q`` that a normal score exceeds with probability ``risk`` (Siffer et al. 2017):
    the initial threshold ``t`` is the empirical ``level``-quantile of the calibration scores (the sorted score
    at 0-based index ⌊level n⌋, as in the authors' code), and a GPD is fitted to the excesses over it."""
    scores = _checked_scores(calibration_scores, "calibration")
    risk, level = _checked_probability(risk, "risk", DEFAULT_RISK), _checked_probability(level, "level", DEFAULT_LEVEL)
    initial_threshold = float(np.sort(scores)[int(level * scores.size)])
    excesses = scores[scores > initial_threshold] - initial_threshold
    return _pot_from_excesses(initial_threshold, excesses, scores.size, risk)


class _StreamingPOT:
    """The state of SPOT (Siffer et al. 2017, Algorithm "SPOT"): the excesses and the count of normal scores
    so far. A score over ``pot.threshold`` is an alarm and changes nothing; any other score is counted, and one
    over the initial threshold also adds an excess and refits the GPD, which moves the threshold."""

    def __init__(self, calibration: POTThreshold, calibration_excesses: np.ndarray) -> None:
        self.pot = calibration
        self.excesses = list(calibration_excesses)
        self.num_scores = calibration.num_scores

    def observe(self, score: float) -> bool:
        """Whether ``score`` is an alarm, after which the state has taken it in."""
        if score > self.pot.threshold:
            return True
        self.num_scores += 1
        if score > self.pot.initial_threshold:
            self.excesses.append(score - self.pot.initial_threshold)
            self.pot = _pot_from_excesses(
                self.pot.initial_threshold, np.array(self.excesses), self.num_scores, self.pot.risk
            )
        return False


def _streaming_pot(calibration_scores: np.ndarray, risk: float, level: float) -> _StreamingPOT:
    calibration = pot_threshold(calibration_scores, risk, level)
    scores = np.asarray(calibration_scores, dtype=float)
    return _StreamingPOT(calibration, scores[scores > calibration.initial_threshold] - calibration.initial_threshold)


def spot(
    calibration_scores: np.ndarray,
    test_scores: np.ndarray,
    risk: float = DEFAULT_RISK,
    level: float = DEFAULT_LEVEL,
) -> StreamThresholds:
    """SPOT (Siffer et al. 2017): POT calibrated on ``calibration_scores``, then run over ``test_scores`` in
    order; each score above the current ``z_q`` is an alarm, each other score above ``t`` refits the GPD."""
    scores = _checked_scores(test_scores, "test")
    state = _streaming_pot(calibration_scores, risk, level)
    thresholds, alarms = np.empty(scores.size), np.empty(scores.size, dtype=bool)
    for i, score in enumerate(scores):
        thresholds[i] = state.pot.threshold
        alarms[i] = state.observe(float(score))
    return StreamThresholds(thresholds, alarms)


def _drift_removed(scores: np.ndarray, depth: int) -> np.ndarray:
    """X_i - M_i for i >= depth, with M_i the mean of the ``depth`` scores before X_i (Siffer et al. 2017,
    DSPOT's local model)."""
    window_sums = np.convolve(scores, np.ones(depth), mode="valid")[:-1]
    return scores[depth:] - window_sums / depth


def dspot(
    calibration_scores: np.ndarray,
    test_scores: np.ndarray,
    depth: int,
    risk: float = DEFAULT_RISK,
    level: float = DEFAULT_LEVEL,
) -> StreamThresholds:
    """DSPOT (Siffer et al. 2017): SPOT on X_i - M_i, with M_i the mean of the last ``depth`` normal scores,
    so the threshold follows a drifting level; an alarm does not enter the window. The thresholds returned
    are on the scores' own scale (z_q + M_i)."""
    calibration = _checked_scores(calibration_scores, "calibration")
    scores = _checked_scores(test_scores, "test")
    if not 1 <= depth < calibration.size:
        raise UserError(
            f"the DSPOT depth must be at least 1 and below the {calibration.size} calibration scores, got "
            f"{depth}; choose a window of a few to a few hundred points"
        )
    state = _streaming_pot(_drift_removed(calibration, depth), risk, level)
    window = deque(calibration[-depth:], maxlen=depth)
    thresholds, alarms = np.empty(scores.size), np.empty(scores.size, dtype=bool)
    for i, score in enumerate(scores):
        local_mean = float(np.mean(window))
        thresholds[i] = state.pot.threshold + local_mean
        alarms[i] = state.observe(float(score) - local_mean)
        if not alarms[i]:
            window.append(float(score))
    return StreamThresholds(thresholds, alarms)
