"""Thresholds from normal scores: the empirical quantile, the GPD fit of POT against the truth and scipy's
maximum likelihood, the exceedance rate of z_q, SPOT and DSPOT on streams with injected extremes, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from vaelab import UserError
from vaelab.applications.series.thresholds import (
    dspot,
    fit_gpd,
    gpd_log_likelihood,
    pot_threshold,
    quantile_threshold,
    spot,
)


def gpd_sample(shape: float, scale: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of the GPD by inversion of its survival function: Y = σ (U^(-γ) - 1) / γ, or -σ log U at γ = 0."""
    uniform = rng.uniform(size=size)
    return -scale * np.log(uniform) if shape == 0 else scale * np.expm1(-shape * np.log(uniform)) / shape


@pytest.mark.parametrize("shape", [0.3, 0.0, -0.4, -0.9])
def test_gpd_fit_is_close_to_the_truth_and_to_scipy(shape: float) -> None:
    excesses = gpd_sample(shape, 2.0, 5000, np.random.default_rng(1))
    fit = fit_gpd(excesses)
    assert fit.method == "grimshaw"
    # The MLE's standard deviations at n = 5000 are about (1 + γ) / sqrt(n) <= 0.02 for γ and
    # sqrt(2 (1 + γ) / n) <= 0.025 relative for σ: the tolerances are 4 of them.
    assert fit.shape == pytest.approx(shape, abs=0.08)
    assert fit.scale == pytest.approx(2.0, rel=0.1)
    # scipy maximises the same likelihood numerically (Nelder-Mead): the same optimum, ours no worse.
    scipy_shape, _, scipy_scale = stats.genpareto.fit(excesses, floc=0)
    assert fit.shape == pytest.approx(scipy_shape, abs=2e-3)
    assert fit.scale == pytest.approx(scipy_scale, rel=2e-3)
    assert gpd_log_likelihood(excesses, fit.shape, fit.scale) >= gpd_log_likelihood(excesses, scipy_shape, scipy_scale)
    assert gpd_log_likelihood(excesses, fit.shape, fit.scale) == pytest.approx(
        stats.genpareto.logpdf(excesses, fit.shape, scale=fit.scale).sum()
    )


def test_the_exponential_is_the_limit_of_the_likelihood() -> None:
    excesses = gpd_sample(0.0, 1.5, 100, np.random.default_rng(0))
    assert gpd_log_likelihood(excesses, 1e-9, 1.5) == pytest.approx(gpd_log_likelihood(excesses, 0.0, 1.5), rel=1e-7)


def test_a_tail_without_maximum_likelihood_is_fitted_by_moments() -> None:
    # With γ = -1.5 the likelihood grows without bound near the largest excess: no root, so the moments.
    excesses = gpd_sample(-1.5, 2.0, 2000, np.random.default_rng(0))
    fit = fit_gpd(excesses)
    assert fit.method == "moments"
    assert fit.shape == pytest.approx(-1.5, abs=0.2)
    assert fit.scale / -fit.shape == pytest.approx(2.0 / 1.5, rel=0.05)  # the upper end of the support


def test_quantile_threshold_is_the_empirical_quantile() -> None:
    scores = np.random.default_rng(0).normal(size=1001)
    assert quantile_threshold(scores, 0.99) == np.sort(scores)[990]


@pytest.mark.parametrize(("shape", "scale"), [(0.0, 1.0), (0.2, 0.5)])
def test_pot_threshold_is_exceeded_at_the_risk(shape: float, scale: float) -> None:
    rng = np.random.default_rng(0)
    pot = pot_threshold(gpd_sample(shape, scale, 100_000, rng), risk=1e-3)
    assert pot.num_excesses == 1999 and pot.num_scores == 100_000  # strictly above t = the 98,001st score
    exceedance_rate = np.mean(gpd_sample(shape, scale, 1_000_000, rng) > pot.threshold)
    # 1000 exceedances are expected. Over 200 seeds the rate / q had a standard deviation of 0.085: 0.03
    # Poisson noise and the rest from estimating z_q with 2000 excesses. ±30% is 3.5 standard deviations; a
    # wrong quantile formula (e.g. q in place of q n / N_t) is off by a factor of about 50.
    assert exceedance_rate / 1e-3 == pytest.approx(1.0, abs=0.3)
    true_quantile = -scale * math.log(1e-3) if shape == 0 else scale * math.expm1(-shape * math.log(1e-3)) / shape
    assert pot.threshold == pytest.approx(true_quantile, rel=0.1)


def test_spot_flags_injected_extremes_and_keeps_them_out_of_the_model() -> None:
    rng = np.random.default_rng(0)
    calibration, stream = rng.exponential(size=5000), rng.exponential(size=3000)
    injected = np.arange(100, 3000, 300)
    stream[injected] = 25.0  # z_q for q = 1e-4 is about 9.2
    result = spot(calibration, stream)
    assert result.thresholds[0] == pot_threshold(calibration).threshold
    assert set(injected) <= set(np.flatnonzero(result.alarms))
    assert result.alarms.sum() <= len(injected) + 2  # about 0.3 false alarms are expected at q = 1e-4
    np.testing.assert_array_equal(result.alarms, stream > result.thresholds)
    # An alarm leaves the threshold unchanged; a new excess over t (about 1 in 50 scores) refits it.
    assert np.all(result.thresholds[injected + 1] == result.thresholds[injected])
    assert len(np.unique(result.thresholds)) > 20


def test_dspot_follows_a_drifting_level() -> None:
    rng = np.random.default_rng(0)
    level = np.linspace(0, 20, 6000)
    series = level + rng.exponential(size=6000)
    injected = np.arange(3100, 6000, 300)
    series[injected] += 20
    calibration, stream = series[:3000], series[3000:]
    drifting = dspot(calibration, stream, depth=20)
    assert set(injected - 3000) <= set(np.flatnonzero(drifting.alarms))
    assert drifting.alarms.sum() <= len(injected) + 2
    # The first threshold: POT on each calibration score minus the mean of the 20 before it, + the last 20's mean.
    relative = [calibration[i] - calibration[i - 20 : i].mean() for i in range(20, 3000)]
    assert drifting.thresholds[0] == pytest.approx(
        pot_threshold(np.array(relative)).threshold + calibration[-20:].mean()
    )
    # An alarm enters neither the excesses nor the window of the local mean: the next threshold is the same.
    np.testing.assert_array_equal(drifting.thresholds[injected - 3000 + 1], drifting.thresholds[injected - 3000])
    # Plain SPOT, calibrated on levels 0-10 (z_q about 16.6), alarms on every point once the level passes 17.5.
    assert spot(calibration, stream[-750:]).alarms.all()


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: pot_threshold(np.array([])), "non-empty"),
        (lambda: quantile_threshold(np.array([]), 0.9), "non-empty"),
        (lambda: quantile_threshold(np.ones(10), 1.0), "between 0 and 1"),
        (lambda: quantile_threshold(np.ones(10), 0.0), "between 0 and 1"),
        (lambda: pot_threshold(np.arange(1000.0), risk=1.5), "between 0 and 1"),
        (lambda: pot_threshold(np.arange(1000.0), risk=0.0), "between 0 and 1"),
        (lambda: pot_threshold(np.arange(1000.0), level=-0.1), "between 0 and 1"),
        (lambda: pot_threshold(np.arange(100.0)), "only 1 scores exceed"),
        (lambda: pot_threshold(np.r_[np.zeros(990), np.ones(10)]), "all equal"),
        (lambda: pot_threshold(np.arange(1000.0), risk=0.05), "not below the fraction"),
        (lambda: pot_threshold(np.r_[np.arange(1000.0), np.nan]), "NaN"),
        (lambda: spot(np.arange(1000.0), np.array([[1.0]])), "1-D"),
        (lambda: dspot(np.arange(1000.0), np.ones(5), depth=0), "depth"),
        (lambda: dspot(np.arange(1000.0), np.ones(5), depth=1000), "depth"),
    ],
)
def test_bad_input_is_a_one_line_user_error(call, problem: str) -> None:
    with pytest.raises(UserError, match=problem) as error:
        call()
    assert "\n" not in str(error.value)
