"""Discrete latents: the Gumbel-softmax (concrete) density, the closed-form categorical and joint KLs against
Monte Carlo, the temperature schedule and how it reaches the model, the discrete model in evaluation, the
JointVAE loss, the presets through the CLI, and the one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Dirichlet, Independent, Normal, kl_divergence

import vaelab
from helpers import run_cli
from vaelab.config.build import build_objective, build_schedules, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig, ScheduleConfig
from vaelab.data.batch import as_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.distributions import kl_estimate
from vaelab.distributions.one_hot_groups import JointLatent, OneHotGroups, joint_kl_parts
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.models.build import build_model
from vaelab.objectives.joint_vae import JointVAE
from vaelab.objectives.relaxed_elbo import RelaxedELBO
from vaelab.training import LinearRamp, TrainSettings, fit
from vaelab.training.schedules import ExponentialDecay


def binary_images(n: int = 24) -> ArrayDataset:
    x = np.random.default_rng(0).integers(0, 2, size=(n, 1, 4, 4)).astype(np.uint8)
    return ArrayDataset(x, None, 2, "grid")


def tiny_model(preset: str, latent_dim: int, **posterior: object) -> VAE:
    torch.manual_seed(0)
    config = ModelConfig(
        preset=preset, latent_dim=latent_dim, hidden_dims=[16], posterior={"name": "auto", **posterior}
    )
    return build_model(model_spec(config, binary_images()))


# ------------------------------------------------------------------------------ the concrete density


@pytest.mark.parametrize("temperature", [0.3, 0.67, 1.0, 2.0])
def test_the_two_category_concrete_density_integrates_to_one(temperature: float) -> None:
    """z = (u, 1 - u): the density over u in (0, 1), integrated in t = logit(u) (du = u (1 - u) dt), whose
    tails decay exponentially, so the spikes at the simplex's corners are integrated exactly."""
    groups = OneHotGroups(torch.tensor([[0.8, -0.5]], dtype=torch.float64), temperature)
    t = torch.linspace(-120, 120, 400_001, dtype=torch.float64)
    u = torch.sigmoid(t)
    z = torch.stack([u, torch.sigmoid(-t)], -1)  # 1 - u without cancellation
    log_density = groups.log_prob(z) + torch.nn.functional.logsigmoid(t) + torch.nn.functional.logsigmoid(-t)
    assert torch.trapezoid(log_density.exp(), t).item() == pytest.approx(1.0, abs=1e-6)


def test_the_concrete_density_is_maddison_et_al_s_closed_form() -> None:
    """Maddison et al. 2017, §3.1: p(x) = (n-1)! lambda^(n-1) prod_k (alpha_k x_k^(-lambda-1)) /
    (sum_i alpha_i x_i^(-lambda))^n at points of the simplex, for 3 categories in 2 groups."""
    torch.manual_seed(0)
    logits = torch.randn(2, 3, dtype=torch.float64)
    temperature, n = 0.6, 3
    x = Dirichlet(torch.ones(3, dtype=torch.float64)).sample((50, 2))  # (50, 2, 3)
    log_alpha = logits.log_softmax(-1)
    maddison = (
        math.lgamma(n)
        + (n - 1) * math.log(temperature)
        + (log_alpha - (temperature + 1) * x.log()).sum(-1)
        - n * (log_alpha - temperature * x.log()).logsumexp(-1)
    ).sum(-1)  # (50,), two independent groups
    groups = OneHotGroups(logits, temperature)
    assert torch.allclose(groups.log_prob(x.flatten(-2)), maddison, atol=1e-10)


def test_relaxed_samples_are_reparameterised_points_of_the_simplices_and_exact_ones_one_hot() -> None:
    logits = torch.randn(5, 4, 3, requires_grad=True)
    relaxed = OneHotGroups(logits, 0.5).rsample((2,))  # (2, 5, 12)
    assert relaxed.shape == (2, 5, 12)
    groups = relaxed.unflatten(-1, (4, 3))
    assert torch.allclose(groups.sum(-1), torch.ones(2, 5, 4)) and (groups > 0).all() and (groups < 1).all()
    relaxed.pow(2).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    exact = OneHotGroups(logits.detach()).rsample((2,)).unflatten(-1, (4, 3))
    assert set(exact.unique().tolist()) == {0.0, 1.0} and torch.equal(exact.sum(-1), torch.ones(2, 5, 4))
    mode = OneHotGroups(logits.detach()).mean.unflatten(-1, (4, 3))
    assert torch.equal(mode.argmax(-1), logits.argmax(-1)) and torch.equal(mode.sum(-1), torch.ones(5, 4))


# ------------------------------------------------------------------------------------------- the KLs


def test_the_closed_form_categorical_kl_matches_monte_carlo() -> None:
    torch.manual_seed(0)
    q, p = OneHotGroups(torch.randn(4, 3, 5, dtype=torch.float64)), OneHotGroups(torch.randn(3, 5, dtype=torch.float64))
    c = q.sample((40_000,))  # exact one-hot codes, (S, 4, 15)
    log_ratio = q.log_prob(c) - p.log_prob(c)  # (S, 4)
    standard_error = log_ratio.std(0) / math.sqrt(len(c))
    closed = kl_divergence(q, p)
    assert closed.shape == (4,) and ((closed - log_ratio.mean(0)).abs() < 4 * standard_error).all()
    uniform = OneHotGroups(torch.zeros(3, 5, dtype=torch.float64))
    assert torch.allclose(kl_divergence(q, uniform), 3 * math.log(5) - q.entropy())  # N log K - H(q)


def test_the_kl_path_of_the_library_uses_the_closed_form_for_relaxed_groups_too() -> None:
    q, p = OneHotGroups(torch.randn(4, 2, 3), 0.5), OneHotGroups(torch.zeros(2, 3), 0.5)
    kl = kl_estimate(q, p, q.rsample((1,)))
    assert torch.equal(kl, kl_estimate(q, p, q.rsample((1,))))  # no Monte Carlo: the same for any sample
    assert torch.allclose(kl, kl_divergence(OneHotGroups(q.logits), OneHotGroups(p.logits)), atol=1e-6)


def joint(batch: tuple[int, ...]) -> JointLatent:
    gaussian = Independent(Normal(torch.randn(*batch, 3), torch.rand(*batch, 3) + 0.5), 1)
    return JointLatent(gaussian, OneHotGroups(torch.randn(*batch, 2, 4) if batch else torch.zeros(2, 4)))


def test_the_joint_kl_is_the_sum_of_its_parts_and_matches_monte_carlo() -> None:
    torch.manual_seed(0)
    q, p = (
        joint((6,)),
        JointLatent(Independent(Normal(torch.zeros(3), torch.ones(3)), 1), OneHotGroups(torch.zeros(2, 4))),
    )
    continuous, discrete = joint_kl_parts(q, p)
    total = kl_divergence(q, p)
    assert torch.allclose(total, continuous + discrete)
    assert torch.allclose(continuous, kl_divergence(q.continuous, p.continuous))
    zc = q.sample((40_000,))  # (S, 6, 3 + 8): the Gaussian part, then exact one-hot groups
    log_ratio = q.log_prob(zc) - p.log_prob(zc)
    assert ((total - log_ratio.mean(0)).abs() < 4 * log_ratio.std(0) / math.sqrt(len(zc))).all()
    assert q.mean.shape == (6, 11) and torch.equal(q.mean[:, :3], q.continuous.mean)


def test_the_joint_objective_reports_both_kls_and_penalises_each_against_its_capacity() -> None:
    model = tiny_model("joint-vae", 6, continuous_dim=2, categories=2)  # 2 Gaussian entries, 2 groups of 2
    batch = as_batch(torch.from_numpy(binary_images().x[:8]).float())
    objective = JointVAE(beta=3.0, capacity=0.5, discrete_capacity=100.0)
    torch.manual_seed(1)
    out = objective(model, batch)
    torch.manual_seed(1)
    terms = elbo_terms(model(batch))
    continuous, discrete = out.terms["continuous_kl"], out.terms["discrete_kl"]
    assert torch.allclose(out.terms["kl"], continuous + discrete) and torch.allclose(out.terms["elbo"], terms["elbo"])
    capped = 2 * math.log(2)  # C_c above N log K is cut to N log K
    expected = -terms["reconstruction"].mean() + 3.0 * (
        (continuous.mean() - 0.5).abs() + (discrete.mean() - capped).abs()
    )
    assert torch.allclose(out.loss, expected)
    with pytest.raises(UserError, match="needs the joint posterior and prior"):
        JointVAE()(tiny_model("gumbel-vae", 4, categories=2), batch)


# ----------------------------------------------------------------------------------------- temperature


def test_the_temperature_anneals_to_its_floor_by_half_the_run() -> None:
    objective = build_objective(ObjectiveConfig(), "gumbel-vae")
    assert objective == RelaxedELBO(temperature=1.0, min_temperature=0.5)
    schedule = build_schedules(ScheduleConfig(), objective, steps_per_epoch=10, epochs=20, preset_name="gumbel-vae")
    tau = schedule["temperature"]
    assert tau(0) == 1.0 and tau(50) == pytest.approx(math.sqrt(0.5)) and tau(100) == pytest.approx(0.5)
    assert tau(150) == 0.5 and all(tau(s) >= tau(s + 1) for s in range(200))
    explicit = RelaxedELBO(temperature=2.0, min_temperature=0.1, anneal_rate=0.01)
    assert build_schedules(ScheduleConfig(), explicit, 10, 20)["temperature"] == ExponentialDecay(2.0, 0.1, 0.01)
    assert ExponentialDecay(2.0, 0.1, 0.01)(10) == pytest.approx(2.0 * math.exp(-0.1))


def test_the_joint_preset_ramps_both_capacities_and_keeps_its_temperature() -> None:
    objective = build_objective(ObjectiveConfig(), "joint-vae")
    assert objective == JointVAE(beta=30.0, capacity=5.0, discrete_capacity=5.0)
    schedules = build_schedules(ScheduleConfig(), objective, steps_per_epoch=10, epochs=20, preset_name="joint-vae")
    assert schedules == {"capacity": LinearRamp(5.0, 100), "discrete_capacity": LinearRamp(5.0, 100)}


def test_the_objective_sets_the_temperature_of_posterior_and_prior_and_evaluation_is_exact() -> None:
    model = tiny_model("gumbel-vae", 6, categories=3).train()
    batch = as_batch(torch.from_numpy(binary_images().x[:4]).float())
    RelaxedELBO(temperature=0.25, min_temperature=0.25)(model, batch)
    q_z, p_z = model.encode(batch.x), model.p_z()
    assert isinstance(q_z, OneHotGroups) and isinstance(p_z, OneHotGroups)
    assert q_z.temperature == 0.25 and p_z.temperature == 0.25
    model.eval()
    q_z, p_z = model.encode(batch.x), model.p_z()
    assert q_z.temperature is None and p_z.temperature is None  # the discrete model
    codes = model.prior_sample(3000).unflatten(-1, (2, 3))  # uniform one-hot draws per group
    assert set(codes.unique().tolist()) == {0.0, 1.0}
    assert torch.allclose(codes.mean(0), torch.full((2, 3), 1 / 3), atol=0.04)
    with pytest.raises(UserError, match="0 < min_temperature <= temperature"):
        build_objective(ObjectiveConfig.model_validate({"temperature": 0.2}), "gumbel-vae")


def test_the_importance_sampled_likelihood_is_that_of_the_discrete_model() -> None:
    """One group of 3 categories: log p(x) = log sum_c p(x|c) / 3 by enumeration, which the importance-sampled
    estimate (q's categoricals as the proposal) reaches."""
    data = binary_images()
    model = tiny_model("gumbel-vae", 3, categories=3)
    fit(model, RelaxedELBO(), data, None, TrainSettings(epochs=3, batch_size=8, progress=False))
    x = torch.from_numpy(data.x[:5]).float()
    codes = torch.eye(3)  # every value of c
    log_p_x_given_c = torch.stack([model.likelihood.log_prob(model.decode(c.expand(5, 3)), x) for c in codes])
    exact = log_p_x_given_c.logsumexp(0) - math.log(3)  # (5,)
    torch.manual_seed(0)
    estimate = model.log_likelihood(x, num_samples=4000)
    assert torch.allclose(estimate, exact, atol=0.02)
    assert (model.elbo(x, num_samples=200) <= exact + 1e-4).all()  # the exact ELBO bounds it


# ------------------------------------------------------------------------------------- presets, errors


@pytest.mark.parametrize(
    ("preset", "options"),
    [
        ("gumbel-vae", ["--latent-dim", "6", "--set", "model.posterior.categories=3"]),
        (
            "joint-vae",
            ["--latent-dim", "6", "--set", "model.posterior.continuous_dim=2", "--set", "model.posterior.categories=2"],
        ),
    ],
)
def test_the_presets_train_through_the_cli_and_load(
    preset: str, options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    args = ["train", "--model", preset, "--epochs", "1", "--hidden-dims", "16", "--no-progress", "--no-report"]
    code, _, err = run_cli([*args, *options, "--out", str(run)], capsys, monkeypatch)
    assert code == 0, err
    model = vaelab.load(run)
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 17, (4, 1, 8, 8))).float() / 16
    assert torch.isfinite(model.log_likelihood(x, num_samples=20)).all()
    samples = model.sample(5)
    assert samples.shape == (5, 1, 8, 8) and torch.isfinite(samples).all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--model", "gumbel-vae", "--latent-dim", "7"], "model.latent_dim (7) must be a positive multiple of"),
        (["--model", "joint-vae", "--latent-dim", "15"], "model.latent_dim - model.posterior.continuous_dim (5)"),
        (["--model", "vae", "--set", "model.posterior=gumbel-softmax"], "uniform-categorical prior go together"),
        (["--model", "vae", "--set", "model.prior=joint"], "and the joint prior go together"),
        (["--model", "gumbel-vae", "--set", "objective.min_temperature=0"], "0 < min_temperature"),
        (["--model", "gumbel-vae", "--free-bits", "0.5"], "free bits count the KL per latent dimension"),
    ],
)
def test_a_bad_option_is_one_line(
    options: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run_cli(["train", *options, "--epochs", "1", "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
