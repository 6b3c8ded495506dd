"""OmniAnomaly's state-space prior over per-step latents: its covariance against the state-space recursion, its
density against one full-covariance Gaussian, and its closed-form KL against torch's and Monte Carlo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

import vaelab
from vaelab.applications.series.window_vae import WindowVAE, WindowVAESettings
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.series import sliding_windows
from vaelab.distributions import StepGaussian, kl_estimate
from vaelab.errors import UserError
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.priors.state_space import StateSpacePrior

STEPS, DIMS = 6, 3


def full_covariance(prior: StepGaussian) -> torch.Tensor:
    """``(T * D, T * D)`` in the step-major layout: dimension d's covariance at rows and columns ``t * D + d``."""
    per_dimension = prior.scale_tril @ prior.scale_tril.transpose(-1, -2)  # (D, T, T)
    return torch.einsum("dtu,de->tdue", per_dimension, torch.eye(prior.dims)).reshape(prior.event_shape * 2)


def learned_prior(seed: int = 0) -> StateSpacePrior:
    torch.manual_seed(seed)
    prior = StateSpacePrior(STEPS, DIMS, learn=True).double()
    with torch.no_grad():
        prior.transition.copy_(torch.tensor([0.5, -0.8, 0.95]))
        prior.raw_scales.normal_()
    return prior


def test_omnianomaly_values_give_a_random_walk_seen_through_unit_noise() -> None:
    """a = p = q = r = 1: Cov(s_t, s_u) = min(t, u) + 1 for steps counted from 0, plus r^2 on the diagonal."""
    covariance = StateSpacePrior(STEPS, DIMS).covariance()
    t = torch.arange(STEPS)
    expected = torch.minimum(t[:, None], t[None, :]) + 1 + torch.eye(STEPS)
    torch.testing.assert_close(covariance, expected.float().expand(DIMS, STEPS, STEPS), atol=1e-5, rtol=1e-5)
    assert not list(StateSpacePrior(STEPS, DIMS).parameters())  # OmniAnomaly's prior is fixed


def test_the_covariance_follows_the_state_space_recursion() -> None:
    """Var s_1 = p^2, Var s_t = a^2 Var s_(t-1) + q^2, Cov(s_t, s_u) = a^(u-t) Var s_t for u >= t; z adds r^2 I."""
    prior = learned_prior()
    covariance = prior.covariance()
    initial, transition_noise, observation_noise = (torch.nn.functional.softplus(prior.raw_scales) + 1e-3).detach()
    for d in range(DIMS):
        a = prior.transition[d].item()
        variance = [initial[d].item() ** 2]
        for _ in range(STEPS - 1):
            variance.append(a**2 * variance[-1] + transition_noise[d].item() ** 2)
        expected = torch.zeros(STEPS, STEPS, dtype=torch.float64)
        for t in range(STEPS):
            for u in range(t, STEPS):
                expected[t, u] = expected[u, t] = a ** (u - t) * variance[t]
        expected += observation_noise[d].item() ** 2 * torch.eye(STEPS, dtype=torch.float64)
        torch.testing.assert_close(covariance[d].detach(), expected)


def test_a_transition_beyond_one_is_read_as_one() -> None:
    prior = learned_prior()
    with torch.no_grad():
        prior.transition.copy_(torch.tensor([1.5, -3.0, 1.0]))
    at_one = learned_prior()
    with torch.no_grad():
        at_one.transition.copy_(torch.tensor([1.0, -1.0, 1.0]))
    torch.testing.assert_close(prior.covariance(), at_one.covariance())


def test_density_samples_and_moments_match_one_full_covariance_gaussian() -> None:
    p = learned_prior()()
    full = MultivariateNormal(torch.zeros(STEPS * DIMS, dtype=torch.float64), covariance_matrix=full_covariance(p))
    z = torch.randn(4, 5, STEPS * DIMS, dtype=torch.float64)
    torch.testing.assert_close(p.log_prob(z), full.log_prob(z))
    torch.testing.assert_close(p.entropy(), full.entropy())
    torch.testing.assert_close(p.variance, full.variance)
    assert p.mean.shape == (STEPS * DIMS,) and p.mean.abs().max() == 0
    torch.manual_seed(1)
    samples = p.rsample((200_000,))  # (N, T * D)
    assert samples.shape == (200_000, STEPS * DIMS)
    empirical = samples.T @ samples / len(samples)
    scale = full.covariance_matrix.diagonal().sqrt()
    torch.testing.assert_close(
        empirical / scale / scale[:, None], full.covariance_matrix / scale / scale[:, None], atol=0.02, rtol=0
    )  # correlations within 0.02 (standard error ~0.002)


def test_closed_form_kl_equals_torchs_full_gaussian_kl_and_monte_carlo() -> None:
    p = learned_prior()()
    torch.manual_seed(2)
    loc = torch.randn(7, STEPS * DIMS, dtype=torch.float64)
    scale = torch.rand(7, STEPS * DIMS, dtype=torch.float64) + 0.2
    q = Independent(Normal(loc, scale), 1)
    exact = kl_divergence(q, p)
    assert exact.shape == (7,)
    full_q = MultivariateNormal(loc, scale_tril=torch.diag_embed(scale))
    full_p = MultivariateNormal(torch.zeros(STEPS * DIMS, dtype=torch.float64), covariance_matrix=full_covariance(p))
    torch.testing.assert_close(exact, kl_divergence(full_q, full_p))
    z = q.rsample((100_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).mean(0)
    torch.testing.assert_close(monte_carlo, exact, atol=0.05, rtol=0.01)
    torch.testing.assert_close(kl_estimate(q, p, z), exact)  # the objectives take the closed form


def windows() -> ArrayDataset:
    t = np.arange(200, dtype=np.float32)
    return ArrayDataset(sliding_windows(np.sin(t / 8)[:, None], 10), None, None, "windows", kind="series")


def config(latents: str, prior: dict[str, object]) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "latent_dim": 20,
            "network": {"name": "gru", "latents": latents, "embedding_dim": 4, "encoder_hidden": 4},
            "likelihood": {"name": "gaussian", "scale": "decoder"},
            "posterior": "gaussian",
            "prior": prior,
        }
    )


@pytest.mark.parametrize("learn", [False, True])
def test_the_state_space_prior_trains_saves_and_loads(learn: bool, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model(resolve_spec(config("step", {"name": "state-space", "learn": learn}), windows()))
    assert isinstance(model.prior, StateSpacePrior) and (model.prior.steps, model.prior.dims) == (10, 2)
    batch = Batch(torch.tensor(windows().x[:8]))
    out = model(batch)
    assert out.kl().shape == (8,) and torch.isfinite(out.kl()).all()
    (-out.log_weights().mean()).backward()
    if learn:
        assert model.prior.transition.grad is not None and model.prior.transition.grad.abs().sum() > 0
        with torch.no_grad():
            model.prior.transition.mul_(0.9)  # a learned value the saved model must keep
    model.save(tmp_path)
    loaded = vaelab.load(tmp_path)
    outputs = []
    for m in (model, loaded):
        torch.manual_seed(1)
        outputs.append((m(batch, num_samples=2).log_weights(), m.sample(3)))
    for a, b in zip(*outputs, strict=True):
        assert torch.isfinite(a).all() and torch.equal(a, b)


def test_the_state_space_prior_needs_latents_per_step() -> None:
    with pytest.raises(UserError, match="the state-space prior ties one latent per step"):
        build_model(resolve_spec(config("window", {"name": "state-space"}), windows()))


def test_a_window_vae_with_the_state_space_prior_scores_a_spike() -> None:
    settings = WindowVAESettings(window=24, latent_dim=2, hidden=16, steps=200, batch_size=64, num_samples=4)
    settings = dataclasses.replace(settings, network="gru", latents="state-space")
    t = np.arange(800)
    values = (np.sin(2 * np.pi * t / 48) + 0.1 * np.random.default_rng(1).normal(size=800)).astype(np.float32)[:, None]
    model = WindowVAE(settings).fit(values[:600])
    assert model.model is not None and isinstance(model.model.prior, StateSpacePrior)
    spiked = values.copy()
    spiked[700, 0] += 4.0
    assert int(np.nanargmax(model.scores(spiked, "last"))) == 700
