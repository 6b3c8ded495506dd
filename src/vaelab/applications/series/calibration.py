"""Raw anomaly scores -> scores in [0, 1] comparable across series (what NAB's one corpus-wide threshold
needs): the probability that a normal score lies below, from the training scores' empirical distribution,
with a generalised Pareto tail above its ``level``-quantile (peaks over threshold, Siffer et al. 2017, the
tail model of ``vaelab.applications.series.thresholds``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaelab.applications.series.thresholds import DEFAULT_LEVEL, GPDFit, fit_gpd, tail_level
from vaelab.errors import UserError


@dataclass(frozen=True)
class TailCalibration:
    """``probability(s)``: the fraction of normal scores below ``s``; above the initial threshold ``t`` it is
    ``1 - (N_t / n) P(Y > s - t)`` under the GPD fitted to the excesses (Siffer et al. 2017, eq. of the POT
    quantile read the other way), the level lowered for few scores so that at least ``2 * MIN_EXCESSES`` lie
    above it. A fitted bounded tail (γ < 0, from a few dozen scores) is replaced by the exponential one (γ = 0),
    so that scores beyond the training ones keep their order instead of all reaching 1; without a fit (too few
    distinct excesses) the empirical fraction alone."""

    sorted_scores: np.ndarray  # (n,) the training scores, ascending
    initial_threshold: float
    tail_fraction: float  # N_t / n
    fit: GPDFit | None

    @classmethod
    def fit_scores(cls, scores: np.ndarray, level: float = DEFAULT_LEVEL) -> TailCalibration:
        scores = np.sort(scores[np.isfinite(scores)])
        if scores.size == 0:
            raise UserError("no training window could be scored; give a longer training part")
        level = tail_level(scores.size, level)  # few scores: a lower level keeps a tail to fit
        initial = float(scores[min(int(level * scores.size), scores.size - 1)])
        excesses = scores[scores > initial] - initial
        try:
            fit: GPDFit | None = fit_gpd(excesses)
        except UserError:
            fit = None
        if fit is not None and fit.shape < 0:  # a bounded tail would give every score past its end probability 1
            fit = GPDFit(0.0, float(excesses.mean()), fit.method)  # the exponential tail's maximum likelihood
        return cls(scores, initial, excesses.size / scores.size, fit)

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """(N,) in [0, 1]; NaN scores stay NaN."""
        below = np.searchsorted(self.sorted_scores, scores, side="right") / (self.sorted_scores.size + 1)
        if self.fit is None:
            return np.where(np.isnan(scores), np.nan, below)
        excess = np.maximum(scores - self.initial_threshold, 0.0)
        tail = self.tail_fraction * _gpd_survival(excess, self.fit)
        return np.where(np.isnan(scores), np.nan, np.where(scores > self.initial_threshold, 1.0 - tail, below))


def _gpd_survival(y: np.ndarray, fit: GPDFit) -> np.ndarray:
    """P(Y > y) = (1 + γ y / σ)^(-1/γ), exp(-y / σ) at γ = 0, and 0 past the end of a bounded tail (γ < 0)."""
    if fit.shape == 0:
        return np.exp(-y / fit.scale)
    base = 1.0 + fit.shape * y / fit.scale
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, np.power(np.maximum(base, 1e-300), -1.0 / fit.shape), 0.0)
