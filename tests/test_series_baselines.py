"""The time-series baselines: NAB's windowed Gaussian against NAB's own outputs, and the window detectors
on a sine series with injected anomalies."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vaelab.applications.series.baselines import (
    IsolationForestBaseline,
    PCABaseline,
    WindowBaseline,
    windowed_gaussian_scores,
)
from vaelab.errors import UserError

WINDOW = 20


def column(path: Path, name: str) -> np.ndarray:
    with path.open(newline="") as file:
        return np.array([float(row[name]) for row in csv.DictReader(file)])


def phi(z: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# --- NAB's windowed Gaussian ---------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["nyc_taxi", "machine_temperature_system_failure"])
def test_windowed_gaussian_equals_nab_results(data_dir: Path, name: str) -> None:
    nab = data_dir / "nab"
    expected = column(nab / "results" / "windowedGaussian" / f"windowedGaussian_{name}.csv", "anomaly_score")
    scores = windowed_gaussian_scores(column(nab / f"{name}.csv", "value"))
    assert len(expected) > 6400  # the window fills and then slides
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-6)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "series",
    [
        "artificialNoAnomaly/art_flatline.csv",  # constant: every window has a zero standard deviation
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        "realAdExchange/exchange-2_cpc_results.csv",  # shorter than the window
        "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
        "realTweets/Twitter_volume_AAPL.csv",  # 15902 points
    ],
)
def test_windowed_gaussian_equals_nab_corpus_results(data_dir: Path, series: str) -> None:
    nab = data_dir / "nab"
    category, name = series.split("/")
    expected = column(
        nab / "corpus-results" / "windowedGaussian" / category / f"windowedGaussian_{name}", "anomaly_score"
    )
    scores = windowed_gaussian_scores(column(nab / "corpus" / series, "value"))
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-6)


def test_windowed_gaussian_by_hand() -> None:
    # window_size 2, step_size 2: the window is [0], [0, 2], then [0, 4] from point 4, [1, 1] from point 6
    scores = windowed_gaussian_scores(np.array([0.0, 2.0, 0.0, 4.0, 1.0, 1.0, 5.0]), window_size=2, step_size=2)
    # point 1: std 0 -> 1e-6, far out; point 2: z = -1 (mean 1, std 1); point 3: z = 3 (window unchanged);
    # points 4, 5: z = -0.5 (mean 2, std 2); point 6: constant window, far out
    expected = [0.0, 1.0, phi(1.0), phi(3.0), phi(0.5), phi(0.5), 1.0]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)


def test_windowed_gaussian_constant_window_scores_one_half_for_its_value() -> None:
    scores = windowed_gaussian_scores(np.array([3.0, 3.0, 3.0, 3.0, 4.0]), window_size=3, step_size=1)
    np.testing.assert_array_equal(scores, [0.0, 0.5, 0.5, 0.5, 1.0])


def test_windowed_gaussian_keeps_numpy_rounding_like_nab() -> None:
    # numpy's std of [0.1, 0.1, 0.1] is 1.4e-17, not 0, so NAB keeps it and scores the next 0.1 at 1 - Q(1)
    assert np.std([0.1] * 3) != 0.0
    scores = windowed_gaussian_scores(np.full(4, 0.1))
    assert scores[3] == pytest.approx(phi(1.0))


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        (np.array([1.0, np.nan, 2.0]), {}, "NaN or infinite value at point 1"),
        (np.ones((5, 2)), {}, "must be 1-D"),
        (np.ones(5), {"window_size": 0}, "window_size must be a positive integer"),
        (np.ones(5), {"window_size": 4, "step_size": 5}, "must not exceed window_size"),
        (np.array(["a", "b"]), {}, "must be numbers"),
    ],
)
def test_windowed_gaussian_rejects_bad_input(values: np.ndarray, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        windowed_gaussian_scores(values, **kwargs)
    assert "\n" not in str(error.value)


# --- the window baselines ------------------------------------------------------------------------------


def sine(length: int, seed: int, channels: int = 1) -> np.ndarray:
    """A sine of period 40 with a little noise, (length, channels) with a phase per channel."""
    rng = np.random.default_rng(seed)
    phase = np.arange(length)[:, None] * 2 * np.pi / 40 + np.arange(channels)
    return np.sin(phase) + 0.05 * rng.normal(size=(length, channels))


def with_anomaly(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """A test series (700,) with spikes or a level shift, and which points end a window holding one."""
    values = sine(700, seed=1)[:, 0]
    anomalous = np.zeros(len(values), dtype=bool)
    if kind == "spike":
        anomalous[[150, 350, 550]] = True
        values[anomalous] += 3.0
    else:
        anomalous[300:340] = True
        values[anomalous] += 1.5
    covered = np.convolve(anomalous, np.ones(WINDOW), mode="full")[: len(values)] > 0
    return values, covered


def baselines() -> list[WindowBaseline]:
    return [IsolationForestBaseline(window=WINDOW, random_state=0), PCABaseline(window=WINDOW)]


@pytest.mark.parametrize("kind", ["spike", "level shift"])
@pytest.mark.parametrize("index", [0, 1], ids=["isolation forest", "pca"])
def test_baselines_rank_anomalous_windows_first(index: int, kind: str) -> None:
    baseline = baselines()[index].fit(sine(800, seed=0)[:, 0])
    values, covered = with_anomaly(kind)
    scores = baseline.score(values)
    full = ~np.isnan(scores)
    assert roc_auc_score(covered[full], scores[full]) > 0.9


@pytest.mark.parametrize("index", [0, 1], ids=["isolation forest", "pca"])
@pytest.mark.parametrize("channels", [None, 3])
def test_baselines_give_one_score_per_point_after_a_nan_prefix(index: int, channels: int | None) -> None:
    train, values = sine(300, seed=0, channels=channels or 1), sine(120, seed=1, channels=channels or 1)
    if channels is None:
        train, values = train[:, 0], values[:, 0]
    scores = baselines()[index].fit(train).score(values)
    assert scores.shape == (120,)
    assert np.isnan(scores[: WINDOW - 1]).all()
    assert np.isfinite(scores[WINDOW - 1 :]).all()


def test_scaling_comes_from_the_training_part() -> None:
    # a series scored on its own would look normal after its own scaling; against the training scale a
    # shifted copy is anomalous everywhere
    train = sine(400, seed=0)[:, 0]
    baseline = PCABaseline(window=WINDOW).fit(train)
    assert baseline.scaler is not None
    assert baseline.scaler.mean_[0] == pytest.approx(train.mean())
    normal, shifted = baseline.score(sine(200, seed=1)[:, 0]), baseline.score(sine(200, seed=1)[:, 0] + 5.0)
    assert np.nanmin(shifted) > np.nanmax(normal)


def test_pca_keeps_the_components_explaining_the_variance() -> None:
    baseline = PCABaseline(window=WINDOW).fit(sine(400, seed=0)[:, 0])
    assert baseline.pca.n_components_ == 2  # windows of a sine span sin and cos
    assert PCABaseline(window=WINDOW, n_components=5).fit(sine(400, seed=0)[:, 0]).pca.n_components_ == 5


def test_isolation_forest_is_seeded() -> None:
    train, values = sine(300, seed=0)[:, 0], sine(100, seed=1)[:, 0]
    first, again, other = (
        IsolationForestBaseline(window=WINDOW, random_state=s).fit(train).score(values) for s in (0, 0, 1)
    )
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[WINDOW - 1 :], other[WINDOW - 1 :])


@pytest.mark.parametrize(
    ("fit_values", "score_values", "message"),
    [
        (np.ones(WINDOW), None, "needs at least 21"),
        (sine(100, seed=0)[:, 0], np.ones(WINDOW - 1), "points but the window is"),
        (np.r_[sine(100, seed=0)[:, 0], np.nan], None, "NaN or infinite value at point 100"),
        (sine(100, seed=0)[:, 0], np.r_[1.0, np.nan, sine(30, seed=1)[:, 0]], "NaN or infinite value at point 1"),
        (sine(100, seed=0)[:, 0], sine(30, seed=1, channels=2), "2 channel"),
        (np.ones((100, 2, 2)), None, r"shape \(N,\) or \(N, channels\)"),
    ],
)
@pytest.mark.parametrize("index", [0, 1], ids=["isolation forest", "pca"])
def test_baselines_reject_bad_input(
    index: int, fit_values: np.ndarray, score_values: np.ndarray | None, message: str
) -> None:
    baseline = baselines()[index]
    with pytest.raises(UserError, match=message) as error:
        baseline.fit(fit_values).score(sine(30, seed=1)[:, 0] if score_values is None else score_values)
    assert "\n" not in str(error.value)


def test_bad_settings_and_unfitted_use_are_user_errors() -> None:
    with pytest.raises(UserError, match="not fitted"):
        PCABaseline(window=WINDOW).score(np.ones(30))
    with pytest.raises(UserError, match="window must be a positive integer"):
        IsolationForestBaseline(window=0)
    with pytest.raises(UserError, match="explained_variance"):
        PCABaseline(explained_variance=1.0)
    with pytest.raises(UserError, match="n_components"):
        PCABaseline(window=5, n_components=6).fit(np.arange(100.0))
