"""The variant objectives: their mathematics, their registry entries, and a short CLI run of each preset."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Categorical as CategoricalDistribution
from torch.distributions import ExpTransform, Independent, MixtureSameFamily, Normal, TransformedDistribution

from helpers import tiny_vae
from vaelab import load
from vaelab.cli.main import main
from vaelab.config.build import build_objective, build_schedules
from vaelab.config.schema import ObjectiveConfig, ScheduleConfig
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.nn import Discriminator
from vaelab.objectives import (
    CIWAE,
    DIPVAE,
    ELBO,
    IWAE,
    MIWAE,
    AdversarialAutoencoder,
    BetaTCVAE,
    FactorVAE,
    InfoVAE,
    Objective,
)
from vaelab.objectives.beta_tcvae import kl_decomposition, log_importance_weights
from vaelab.objectives.dip_vae import code_covariance, dip_penalty
from vaelab.objectives.mmd import mmd
from vaelab.training.schedules import LinearRamp

F64 = torch.float64


def gaussian(loc: torch.Tensor, scale: torch.Tensor | float) -> Independent:
    return Independent(Normal(loc, torch.as_tensor(scale, dtype=loc.dtype).expand_as(loc)), 1)


def binary_batch(n: int = 16) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(5)).float()


# ----------------------------------------------------------------------------------------- IWAE family


def test_miwae_with_one_bound_is_iwae_and_with_one_sample_the_elbo_estimate() -> None:
    model, x = tiny_vae(), binary_batch()
    torch.manual_seed(0)
    iwae = IWAE(6)(model, Batch(x))
    torch.manual_seed(0)
    miwae = MIWAE(num_bounds=1, num_samples=6)(model, Batch(x))
    assert torch.allclose(miwae.terms["miwae"], iwae.terms["iwae"])
    torch.manual_seed(0)
    out = model(Batch(x), num_samples=6)
    torch.manual_seed(0)
    elbo_estimate = MIWAE(num_bounds=6, num_samples=1)(model, Batch(x)).terms["miwae"]
    assert torch.allclose(elbo_estimate, out.log_weights().mean(0), atol=1e-5)


def test_ciwae_interpolates_between_the_elbo_and_iwae_on_the_same_samples() -> None:
    model, x = tiny_vae(), binary_batch()
    values = {}
    for weight in (0.0, 0.3, 1.0):
        torch.manual_seed(0)
        values[weight] = CIWAE(num_samples=8, elbo_weight=weight)(model, Batch(x)).terms["ciwae"]
    torch.manual_seed(0)
    log_w = model(Batch(x), num_samples=8).log_weights()  # (K, B)
    assert torch.allclose(values[1.0], log_w.mean(0), atol=1e-5)
    assert torch.allclose(values[0.0], torch.logsumexp(log_w, 0) - math.log(8), atol=1e-5)
    assert torch.allclose(values[0.3], 0.3 * values[1.0] + 0.7 * values[0.0], atol=1e-5)
    assert (values[1.0] <= values[0.3] + 1e-6).all() and (values[0.3] <= values[0.0] + 1e-6).all()  # Jensen


# ----------------------------------------------------------------------------------------------- β-TCVAE


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_kl_parts_telescope_to_the_monte_carlo_kl(estimator: str) -> None:
    g = torch.Generator().manual_seed(0)
    q = gaussian(torch.randn(64, 3, generator=g, dtype=F64), torch.rand(64, 3, generator=g, dtype=F64) + 0.2)
    p = gaussian(torch.zeros(3, dtype=F64), 1.0)
    z = q.sample()
    parts = kl_decomposition(q, p, z, dataset_size=1000, estimator=estimator)
    assert all(v.shape == (64,) for v in parts.values())
    assert torch.allclose(sum(parts.values()), q.log_prob(z) - p.log_prob(z), atol=1e-10)  # type: ignore[arg-type]


def test_beta_tcvae_with_unit_weights_is_the_elbo_with_a_monte_carlo_kl() -> None:
    model, x = tiny_vae(), binary_batch()
    torch.manual_seed(0)
    out = BetaTCVAE(alpha=1.0, beta=1.0, gamma=1.0, dataset_size=500)(model, Batch(x))
    torch.manual_seed(0)
    passed = model(Batch(x))
    z = passed.z[0]
    expected = -passed.log_p_x.mean() + (passed.q_z.log_prob(z) - passed.p_z.log_prob(z)).mean()
    assert torch.allclose(out.loss, expected, atol=1e-5)
    torch.manual_seed(0)
    heavier = BetaTCVAE(beta=7.0, dataset_size=500)(model, Batch(x))
    assert torch.allclose(heavier.loss - out.loss, 6 * out.terms["total_correlation"].mean(), atol=1e-5)


@pytest.mark.parametrize(("rho", "seed"), [(0.0, 100), (0.8, 101)])
def test_parts_of_an_exact_aggregate_posterior_match_the_gaussian_channel(rho: float, seed: int) -> None:
    """With the whole dataset in the batch (N = B) the stratified estimate of q(z) is exact. Means
    mu ~ N(0, C) and q(z|x) = N(mu, s^2 I) give q(z) ~ N(0, C + s^2 I) for large N, so
    I = 1/2 log det(C + s^2 I) / s^4, TC = 1/2 log prod diag / det of C + s^2 I, and each marginal's KL
    from N(0, 1) is 1/2 (v - 1 - log v). Tolerances are 4 to 6 standard deviations over seeds."""
    n, s = 2000, 0.3
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=F64)
    means = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    q = gaussian(means @ torch.linalg.cholesky(cov).T, s)
    torch.manual_seed(0)  # a different stream from the means'
    parts = {
        k: float(v.mean())
        for k, v in kl_decomposition(q, gaussian(torch.zeros(2, dtype=F64), 1.0), q.sample(), n).items()
    }
    c = cov + s**2 * torch.eye(2, dtype=F64)
    variances = torch.diagonal(c)
    assert parts["mutual_information"] == pytest.approx(0.5 * float(torch.logdet(c) - 4 * math.log(s)), abs=0.15)
    assert parts["total_correlation"] == pytest.approx(0.5 * float(variances.log().sum() - torch.logdet(c)), abs=0.04)
    assert parts["dimension_kl"] == pytest.approx(float(0.5 * (variances - 1 - variances.log()).sum()), abs=0.02)


def test_stratified_weights_estimate_the_aggregate_density_without_bias() -> None:
    """Over random minibatches holding example 0, sum_m W_0m q(z|x_m) averages to (1/N) sum_n q(z|x_n)
    for minibatch stratified sampling; minibatch-weighted sampling underweights example 0's own term."""
    n, b, repeats = 40, 8, 20_000
    g = torch.Generator().manual_seed(1)
    density = torch.rand(n, generator=g, dtype=F64) * torch.where(torch.arange(n) == 0, 50.0, 1.0)  # q(z|x_n)
    others = torch.argsort(torch.rand(repeats, n - 1, generator=g), dim=1)[:, : b - 1] + 1  # (R, B-1)
    batches = torch.cat([torch.zeros(repeats, 1, dtype=torch.long), others], dim=1)  # row i = 0 is example 0
    exact = density.mean()
    for estimator, unbiased in (("mss", True), ("mws", False)):
        weights = log_importance_weights(b, n, estimator, torch.device("cpu")).exp()[0].to(F64)  # (B,)
        estimates = (density[batches] * weights).sum(1)  # (R,)
        stderr = estimates.std() / math.sqrt(repeats)
        assert (abs(float(estimates.mean() - exact)) < 5 * float(stderr)) == unbiased, estimator
    assert torch.allclose(log_importance_weights(b, n, "mss", torch.device("cpu")).exp().sum(1), torch.ones(b))


def test_beta_tcvae_needs_factorised_distributions_and_a_dataset_size() -> None:
    q = gaussian(torch.zeros(4, 2), 1.0)
    mixture = MixtureSameFamily(CategoricalDistribution(logits=torch.zeros(3)), gaussian(torch.randn(3, 2), 1.0))
    with pytest.raises(UserError, match="factorised prior"):
        kl_decomposition(q, mixture, q.sample(), dataset_size=10)
    with pytest.raises(UserError, match="needs dataset_size"):
        BetaTCVAE()(tiny_vae(), binary_batch())
    assert BetaTCVAE().bind(tiny_vae(), 123).dataset_size == 123
    with pytest.raises(UserError, match="unknown beta-tcvae estimator"):
        BetaTCVAE(tc_estimator="exact")


# ----------------------------------------------------------------------------------------------- DIP-VAE


def test_dip_penalties_vanish_at_identity_covariance_and_count_each_deviation() -> None:
    g = torch.Generator().manual_seed(0)
    raw = torch.randn(256, 3, generator=g, dtype=F64)
    centred = raw - raw.mean(0)
    whitened = centred @ torch.linalg.inv(torch.linalg.cholesky(centred.T @ centred / 256)).T  # Cov = I exactly
    assert float(dip_penalty(code_covariance(gaussian(whitened, 0.5), "i"), 10.0, 100.0)) < 1e-20
    # DIP-VAE-II adds the mean posterior variance: means with covariance 0.75 I and scale 0.5 give Cov_q(z) = I.
    assert float(dip_penalty(code_covariance(gaussian(0.75**0.5 * whitened, 0.5), "ii"), 10.0, 100.0)) < 1e-20
    covariance = torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    assert float(dip_penalty(covariance, lambda_offdiag=3.0, lambda_diag=7.0)) == pytest.approx(3 * 0.5 + 7 * 1.0)
    with pytest.raises(UserError, match="unknown DIP-VAE variant"):
        code_covariance(gaussian(whitened, 0.5), "iii")
    no_moments = TransformedDistribution(gaussian(whitened, 0.5), [ExpTransform()])  # no closed-form mean
    with pytest.raises(UserError, match="DIP-VAE-II needs the posterior's mean and variance"):
        code_covariance(no_moments, "ii")


def test_dip_vae_diagonal_weight_follows_the_variant() -> None:
    model, x = tiny_vae(), binary_batch()
    terms = {}
    for variant, lambda_diag in (("i", None), ("i", 50.0), ("ii", None), ("ii", 5.0)):
        torch.manual_seed(0)
        terms[variant, lambda_diag] = DIPVAE(lambda_offdiag=5.0, lambda_diag=lambda_diag, dip_variant=variant)(
            model, Batch(x)
        )
    assert torch.equal(terms["i", None].terms["dip"], terms["i", 50.0].terms["dip"])
    assert torch.equal(terms["ii", None].terms["dip"], terms["ii", 5.0].terms["dip"])


# ------------------------------------------------------------------------------------------------ MMD


def test_mmd_is_gretton_equation_3() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 2, generator=g, dtype=F64), torch.randn(4, 2, generator=g, dtype=F64) + 1
    k = lambda u, v: math.exp(-float((u - v).pow(2).sum()) / 4.0)  # noqa: E731 (Gaussian kernel, scale 2 D)
    within_a = sum(k(a[i], a[j]) for i in range(5) for j in range(5) if i != j) / 20
    within_b = sum(k(b[i], b[j]) for i in range(4) for j in range(4) if i != j) / 12
    between = sum(k(a[i], b[j]) for i in range(5) for j in range(4)) / 20
    assert float(mmd(a, b)) == pytest.approx(within_a + within_b - 2 * between, rel=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "imq"])
def test_mmd_is_unbiased_zero_for_one_distribution_and_positive_for_shifted_ones(kernel: str) -> None:
    g = torch.Generator().manual_seed(0)
    same = torch.stack(
        [mmd(torch.randn(64, 3, generator=g), torch.randn(64, 3, generator=g), kernel) for _ in range(400)]
    )
    shifted = torch.stack(
        [mmd(torch.randn(64, 3, generator=g), torch.randn(64, 3, generator=g) + 0.5, kernel) for _ in range(400)]
    )
    assert abs(float(same.mean())) < 5 * float(same.std()) / math.sqrt(400)
    assert float(shifted.mean()) > 10 * float(shifted.std()) / math.sqrt(400)
    with pytest.raises(UserError, match="unknown MMD kernel"):
        mmd(same[:2, None], same[:2, None], "laplace")


def test_info_vae_adds_the_weighted_mmd_to_the_weighted_elbo() -> None:
    model, x = tiny_vae(), binary_batch()
    torch.manual_seed(0)
    out = InfoVAE(mmd_weight=0.0, beta=2.0)(model, Batch(x))
    torch.manual_seed(0)
    reference = ELBO(beta=2.0)(model, Batch(x))
    assert torch.allclose(out.loss, reference.loss)
    torch.manual_seed(0)
    weighted = InfoVAE(mmd_weight=10.0, beta=2.0)(model, Batch(x))
    assert torch.allclose(weighted.loss - out.loss, 10 * weighted.terms["mmd"][0], atol=1e-5)


# ------------------------------------------------------------------------------------- every objective

ALL = [
    IWAE(3, gradient="dreg"),
    MIWAE(2, 2, gradient="stl"),
    CIWAE(4),
    BetaTCVAE(dataset_size=100),
    DIPVAE(),
    DIPVAE(dip_variant="ii"),
    InfoVAE(),
    FactorVAE(discriminator=Discriminator(3, (8,))),
    AdversarialAutoencoder(discriminator=Discriminator(3, (8,))),
]


@pytest.mark.parametrize("objective", ALL, ids=lambda o: type(o).__name__)
def test_gradients_reach_every_parameter_and_terms_are_per_example(objective: Objective) -> None:
    torch.manual_seed(0)
    model, x = tiny_vae(), binary_batch(8)
    out = objective(model, Batch(x))
    assert out.loss.shape == ()
    assert {"elbo", "reconstruction", "kl"} <= set(out.terms)
    assert all(v.shape == (8,) for v in out.terms.values())
    out.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    discriminator = getattr(objective, "discriminator", None)
    if discriminator is not None:  # the VAE loss never trains the discriminator
        assert all(p.grad is None for p in discriminator.parameters())


@pytest.mark.parametrize("objective", ALL, ids=lambda o: type(o).__name__)
def test_schedules_can_replace_beta_or_report_what_is_missing(objective: Objective) -> None:
    names = {f.name for f in dataclasses.fields(objective)}  # type: ignore[arg-type]
    if "beta" in names:
        replaced = dataclasses.replace(objective, beta=0.25)  # type: ignore[type-var]
        assert replaced.beta == 0.25  # type: ignore[attr-defined]
    else:
        assert isinstance(objective, AdversarialAutoencoder)


# ---------------------------------------------------------------------------------------------- config


def test_builders_read_their_fields_and_reject_others() -> None:
    assert build_objective(ObjectiveConfig(), "beta-tcvae") == BetaTCVAE(beta=6.0)
    built = build_objective(ObjectiveConfig(gamma=10.0, discriminator_hidden=[16, 16]), "factor-vae")
    assert isinstance(built, FactorVAE) and built.gamma == 10.0 and built.discriminator_hidden == (16, 16)
    assert build_objective(ObjectiveConfig(), "miwae") == MIWAE(num_bounds=8, num_samples=8)
    assert build_objective(ObjectiveConfig(num_samples=3, gradient="dreg"), "iwae") == IWAE(3, gradient="dreg")
    assert build_objective(ObjectiveConfig(name="iwae"), "vae") == IWAE(5)
    assert build_objective(ObjectiveConfig(dip_variant="ii"), "dip-vae") == DIPVAE(dip_variant="ii")
    assert build_objective(ObjectiveConfig(), "annealed-vae") == ELBO(beta=1000.0, capacity=25.0)
    with pytest.raises(UserError, match=r"objective.gamma does not apply to the iwae objective"):
        build_objective(ObjectiveConfig(gamma=3.0), "iwae")
    with pytest.raises(UserError, match=r"objective.capacity does not apply to the info-vae objective"):
        build_objective(ObjectiveConfig(capacity=3.0), "info-vae")
    with pytest.raises(UserError, match="no KL term"):
        build_objective(ObjectiveConfig(beta=2.0), "aae")


def test_annealed_vae_ramps_the_capacity_over_half_the_run() -> None:
    objective = build_objective(ObjectiveConfig(), "annealed-vae")
    schedules = build_schedules(ScheduleConfig(), objective, steps_per_epoch=10, epochs=20, preset_name="annealed-vae")
    assert schedules["capacity"] == LinearRamp(end=25.0, steps=100)
    explicit = build_schedules(ScheduleConfig(capacity_epochs=4), objective, 10, 20, preset_name="annealed-vae")
    assert explicit["capacity"] == LinearRamp(end=25.0, steps=40)
    assert "capacity" not in build_schedules(ScheduleConfig(), objective, 10, 20, preset_name="vae")


# ------------------------------------------------------------------------------------------------- CLI

SMALL_DISCRIMINATOR = ["--set", "objective.discriminator_hidden=[16]"]
PRESETS = {
    "annealed-vae": [],
    "miwae": ["--set", "objective.num_bounds=2", "--num-samples", "3"],
    "ciwae": ["--num-samples", "4"],
    "beta-tcvae": [],
    "factor-vae": SMALL_DISCRIMINATOR,
    "dip-vae": [],
    "info-vae": [],
    "aae": SMALL_DISCRIMINATOR,
    "vae-gan": ["--set", "objective.discriminator_hidden=[16,16]"],  # feature layer, then the head's
    "msssim-vae": [],
    "wae-mmd": [],
    "wae-gan": SMALL_DISCRIMINATOR,
    "swae": [],
    "rae": [],
    "svae": [],
    "hamiltonian-vae": ["--set", "model.posterior.steps=2"],
    "gumbel-vae": ["--set", "model.posterior.categories=3"],  # latent_dim 3: one variable of 3 categories
    "joint-vae": ["--set", "model.posterior.continuous_dim=1", "--set", "model.posterior.categories=2"],
    "vq-vae": ["--set", "model.posterior.codebook_size=16"],  # latent_dim 3: one code vector of 3
}


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_trains_through_the_cli_and_loads(
    preset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / preset
    args = ["--epochs", "1", "--hidden-dims", "16", "--latent-dim", "3", "--no-progress", "--no-report"]
    monkeypatch.setattr(
        sys, "argv", ["vaelab", "train", "--model", preset, *args, *PRESETS[preset], "--out", str(run_dir)]
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code in (0, None), capsys.readouterr().err
    model = load(run_dir)
    assert not any("discriminator" in key for key in model.state_dict())
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 17, (4, 1, 8, 8))).float() / 16
    assert torch.isfinite(model.elbo(x)).all()


@pytest.mark.parametrize("preset", ["vae-gan", "hamiltonian-vae", "rae", "denoising"])
def test_objectives_that_call_the_parts_refuse_a_wrapped_model_in_one_line(preset: str) -> None:
    """A model wrapped by DistributedDataParallel hides its parts: those objectives say so instead of failing."""
    wrapped = torch.nn.Module()  # stands for the wrapper: a module that is not a VAE
    config = ObjectiveConfig(name=preset, corruption="gaussian:0.3") if preset == "denoising" else ObjectiveConfig()
    objective = build_objective(config, "vae" if preset == "denoising" else preset)
    with pytest.raises(UserError, match="trains in a single process"):
        objective(wrapped, None)  # type: ignore[arg-type]


FAMILY_PRESETS = [
    "vq-vae", "gumbel-vae", "joint-vae", "svae", "hamiltonian-vae", "wae-mmd", "wae-gan", "swae", "rae", "vae-gan",
    "msssim-vae",
]  # fmt: skip


@pytest.mark.parametrize("preset", FAMILY_PRESETS)
def test_each_family_preset_trains_with_its_report_and_evaluates(
    preset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report (pictures and page) and ``vaelab eval`` go through every later preset, not only training."""
    run_dir = tmp_path / preset
    latent = "20" if preset in ("gumbel-vae", "joint-vae") else "4"  # one-hot groups of 10 categories
    args = ["--epochs", "1", "--hidden-dims", "16", "--latent-dim", latent, "--no-progress"]
    monkeypatch.setattr(sys, "argv", ["vaelab", "train", "--model", preset, *args, "--out", str(run_dir)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code in (0, None), capsys.readouterr().err
    assert (run_dir / "report.html").is_file()
    monkeypatch.setattr(sys, "argv", ["vaelab", "eval", str(run_dir), "--num-samples", "4"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code in (0, None), capsys.readouterr().err
