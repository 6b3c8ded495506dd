"""Window VAEs over series: the networks, the masked reconstruction probability, score aggregation, the tail
calibration, and causal detection (no score uses a later point)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from vaelab.applications.series.calibration import TailCalibration
from vaelab.applications.series.detector import DetectorSettings, detect, onsets
from vaelab.applications.series.scores import point_scores
from vaelab.applications.series.window_vae import WindowVAE, WindowVAESettings
from vaelab.data.dataset import ArrayDataset
from vaelab.data.series import sliding_windows
from vaelab.errors import UserError
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.nn.recurrent import GRUEncoder, GRUStepDecoder, GRUStepEncoder, GRUWindowDecoder
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior

FAST = WindowVAESettings(network="donut", window=24, latent_dim=3, hidden=16, steps=150, batch_size=64, num_samples=4)


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    """(n, 1) a daily-like sine with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (np.sin(2 * np.pi * t / 48) + 0.1 * rng.normal(size=n)).astype(np.float32)[:, None]


def test_gru_networks_over_real_windows() -> None:
    encoder = GRUEncoder(nn.Linear(3, 8), hidden_dim=5, num_layers=2)
    assert encoder(torch.randn(4, 10, 3)).shape == (4, 10)
    decoder = GRUWindowDecoder(latent_dim=6, steps=10, channels=3, params=2, hidden_dim=7)
    eta = decoder(torch.randn(5, 4, 6))
    assert eta.shape == (5, 4, 2, 10, 3)
    # every step's parameters depend on z alone: one sample's output does not change with another's z
    z = torch.randn(2, 6)
    first = decoder(z)[0]
    z[1] += 1.0
    torch.testing.assert_close(decoder(z)[0], first)


def test_latents_per_step_are_read_from_their_own_steps_and_decoded_causally() -> None:
    torch.manual_seed(0)
    steps, latent = 10, 2
    encoder = GRUStepEncoder(nn.Linear(3, 8), hidden_dim=5, steps=steps)
    posterior = DiagonalGaussianPosterior(encoder.features, steps * latent, steps=steps)
    h = encoder(torch.randn(4, steps, 3))
    assert h.shape == (4, encoder.features) == (4, steps * 10)
    # z_t's location and scale depend on step t's features alone (one head shared across steps)
    features = torch.randn(steps * 10, requires_grad=True)
    q = posterior(features)
    rows = torch.autograd.functional.jacobian(lambda f: posterior(f).base_dist.loc, features)  # (T * D, T * F)
    own_step = torch.block_diag(*[torch.ones(latent, 10)] * steps).bool()
    assert rows[~own_step].abs().max() == 0 and rows[own_step].abs().min() > 0
    assert q.base_dist.scale.shape == (steps * latent,)
    # the decoder's step t depends on z_1 .. z_t only
    decoder = GRUStepDecoder(latent, steps, channels=3, params=2, hidden_dim=7)
    z = torch.randn(5, 4, steps * latent)
    eta = decoder(z)
    assert eta.shape == (5, 4, 2, steps, 3)
    later = z.clone()
    later[..., 6 * latent :] += 1.0  # z_7 .. z_10 changed
    moved = (decoder(later) - eta).abs().amax(dim=(0, 1, 2, 4))  # (T,)
    assert moved[:6].max() == 0 and moved[6:].min() > 0


def test_a_window_vae_with_latents_per_step_learns_and_scores_a_spike() -> None:
    settings = dataclasses.replace(FAST, network="gru", latents="step", latent_dim=2, steps=200)
    values = seasonal(800, seed=1)
    model = WindowVAE(settings).fit(values[:600])
    assert model.model is not None and model.model.latent_dim == 2 * FAST.window
    assert isinstance(model.model.posterior, DiagonalGaussianPosterior)
    spiked = values.copy()
    spiked[700, 0] += 4.0
    scores = model.scores(spiked, "last")
    assert int(np.nanargmax(scores)) == 700


@pytest.mark.parametrize(
    ("posterior", "latent_dim", "needle"),
    [("planar", 20, "latents per step take the gaussian posterior"), ("gaussian", 21, "a multiple of the window")],
)
def test_latents_per_step_refuse_what_they_cannot_build(posterior: str, latent_dim: int, needle: str) -> None:
    windows = ArrayDataset(sliding_windows(seasonal(100), 10), None, None, "windows", kind="series")
    config = ModelConfig.model_validate(
        {
            "latent_dim": latent_dim,
            "network": {"name": "gru", "latents": "step", "embedding_dim": 4, "encoder_hidden": 4},
            "likelihood": {"name": "gaussian", "scale": "decoder"},
            "posterior": posterior,
            "prior": "standard-normal",
        }
    )
    with pytest.raises(UserError, match=needle):
        build_model(resolve_spec(config, windows))


@pytest.mark.parametrize("network", ["donut", "gru"])
def test_a_missing_value_leaves_its_step_unscored_and_the_window_scored(network: str) -> None:
    settings = dataclasses.replace(FAST, network=network, steps=20, imputation_steps=3)
    values = seasonal(200)
    model = WindowVAE(settings).fit(values)
    with_gap = values.copy()
    with_gap[100, 0] = np.nan
    log_p = model.step_log_likelihoods(with_gap)  # (n, T)
    assert np.isnan(log_p[100 - 23, -1])  # the step with no observed value has no score
    assert np.isfinite(np.delete(log_p[100 - 23], -1)).all()  # the window's other steps have one
    assert np.isfinite(model.scores(values)).sum() == len(values) - 23


def test_point_scores_read_the_last_step_or_average_the_covering_windows() -> None:
    step_log_p = np.array([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]])  # windows starting at 0 and 1
    last = point_scores(step_log_p, 1, 4, "last")
    np.testing.assert_array_equal(last, [np.nan, np.nan, 3.0, 6.0])
    mean = point_scores(step_log_p, 1, 4, "mean")
    np.testing.assert_allclose(mean, [1.0, (2 + 4) / 2, (3 + 5) / 2, 6.0])


def test_tail_calibration_is_monotone_uniform_on_training_scores_and_reaches_one() -> None:
    rng = np.random.default_rng(0)
    training = rng.exponential(size=4000)
    calibration = TailCalibration.fit_scores(training)
    assert calibration.fit is not None
    grid = np.linspace(0, 20, 500)
    probability = calibration.probability(grid)
    assert (np.diff(probability) >= -1e-12).all() and probability.min() >= 0 and probability.max() <= 1
    fresh = calibration.probability(rng.exponential(size=100_000))
    # an exponential tail: P(score > s) for s far beyond the training scores follows exp(-s)
    assert np.mean(fresh >= 0.999) == pytest.approx(1e-3, rel=0.35)
    assert calibration.probability(np.array([np.nan]))[0] != calibration.probability(np.array([np.nan]))[0]


def test_tail_calibration_of_few_scores_still_fits_a_tail() -> None:
    calibration = TailCalibration.fit_scores(np.random.default_rng(1).normal(size=300))
    assert calibration.fit is not None and calibration.probability(np.array([50.0]))[0] > 0.999


def test_causal_scores_do_not_depend_on_later_points() -> None:
    values = seasonal(900)
    settings = DetectorSettings(model=FAST, refit_every=300)
    first = detect(values, settings)
    future_changed = values.copy()
    future_changed[700:] += 5.0
    second = detect(future_changed, settings)
    assert first.scored_from == 135 and first.fits == 3
    np.testing.assert_array_equal(first.anomaly[:700], second.anomaly[:700])
    assert (first.anomaly[:135] == 0).all() and not first.outlier[:135].any()


def test_a_spike_scores_highest_and_is_flagged() -> None:
    values = seasonal(1200, seed=3)
    values[1000:1003, 0] += 4.0
    result = detect(values, DetectorSettings(model=FAST, refit_every=None))
    assert 1000 <= int(np.argmax(result.anomaly)) <= 1002
    assert result.outlier[1000:1003].any()
    assert result.outlier.sum() <= 15  # risk 1e-3 flags few normal points
    assert result.anomaly.min() >= 0 and result.anomaly.max() <= 1


def test_spot_flags_a_spike_and_its_threshold_moves_with_earlier_points_only() -> None:
    values = seasonal(1200, seed=3)
    values[1000:1003, 0] += 4.0
    settings = DetectorSettings(model=FAST, refit_every=None, threshold="spot")
    result = detect(values, settings)
    assert result.outlier[1000:1003].any() and result.outlier.sum() <= 15
    later_changed = values.copy()
    later_changed[1100:] += 5.0
    np.testing.assert_array_equal(detect(later_changed, settings).outlier[:1100], result.outlier[:1100])


def test_a_short_probationary_period_gets_shorter_windows() -> None:
    values = seasonal(400)  # 60 probationary points: 48 to learn from, room for windows of 17
    with pytest.warns(UserWarning, match="using windows of 17 points"):
        result = detect(values, DetectorSettings(model=FAST, refit_every=None))
    assert result.scored_from == 60 and np.isfinite(result.raw[60:]).all()


def test_a_lasting_change_is_learnt_by_an_early_refit() -> None:
    values = seasonal(1500, seed=2)
    values[900:, 0] += 3.0  # a new level from point 900 on
    fixed = detect(values, DetectorSettings(model=FAST, refit_every=None, adapt=False, onset_span=0))
    adapted = detect(values, DetectorSettings(model=FAST, refit_every=None, adapt=True, onset_span=0))
    assert fixed.fits == 1 and adapted.fits >= 2
    assert fixed.outlier[1100:].mean() > 0.5  # without adapting, every later point stays flagged
    assert adapted.outlier[1100:].mean() < 0.05
    assert adapted.outlier[900:930].any()  # the change itself is flagged


def test_onsets_keep_a_score_that_tops_the_span_before_it() -> None:
    anomaly = np.array([0.1, 0.9, 0.95, 0.2, 0.3, 0.99, 0.5])
    np.testing.assert_array_equal(onsets(anomaly, 2), [0.1, 0.9, 0.95, 0.0, 0.0, 0.99, 0.0])
    np.testing.assert_array_equal(onsets(anomaly, 1), [0.1, 0.9, 0.95, 0.0, 0.3, 0.99, 0.0])
    values = seasonal(1200, seed=3)
    values[1000:1003, 0] += 4.0
    every = detect(values, DetectorSettings(model=FAST, refit_every=None, onset_span=0))
    at_onsets = detect(values, DetectorSettings(model=FAST, refit_every=None, onset_span=48))
    assert at_onsets.outlier[1000:1003].any() and at_onsets.outlier.sum() < every.outlier.sum()
    assert (at_onsets.outlier <= every.outlier).all()


def test_batch_mode_trains_on_the_whole_series() -> None:
    values = seasonal(400)
    result = detect(values, DetectorSettings(model=FAST, mode="batch"))
    assert result.scored_from == 0 and result.fits == 1 and np.isfinite(result.raw).all()


def test_settings_left_unset_take_the_networks_defaults() -> None:
    gru = WindowVAESettings()
    assert (gru.network, gru.latents, gru.latent_dim, gru.steps) == ("gru", "state-space", 3, 300)
    donut = WindowVAESettings(network="donut")
    assert (donut.latents, donut.latent_dim, donut.steps) == ("window", 8, 1500)
    per_window = WindowVAESettings(latents="window")
    assert (per_window.network, per_window.latent_dim, per_window.steps) == ("gru", 8, 300)
    given = WindowVAESettings(latents="step", latent_dim=5, steps=7)
    assert (given.latents, given.latent_dim, given.steps) == ("step", 5, 7)
    assert dataclasses.replace(donut, window=30).latent_dim == 8


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: detect(seasonal(20), DetectorSettings(model=FAST)), "the series has 20 points but the window is 24"),
        (lambda: detect(seasonal(200), DetectorSettings(model=FAST)), "probationary period .* is too short"),
        (lambda: DetectorSettings(mode="online"), "unknown mode"),
        (lambda: DetectorSettings(risk=1.5), "risk must lie strictly between 0 and 1"),
        (lambda: WindowVAESettings(network="lstm"), "unknown series network"),
        (lambda: WindowVAESettings(network="donut", latents="step"), "latents per step need the gru network"),
    ],
)
def test_bad_settings_and_short_series(make, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match=needle):
        make()
