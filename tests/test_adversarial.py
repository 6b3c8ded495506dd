"""Objectives with a discriminator (FactorVAE, the adversarial autoencoder) and the trainer's second optimizer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from torch import nn

from helpers import tiny_vae
from test_training import binary_data
from vaelab import load
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.likelihoods import GaussianLikelihood
from vaelab.models import VAE
from vaelab.nn import MLP, Discriminator
from vaelab.objectives import ELBO, AdversarialAutoencoder, FactorVAE
from vaelab.objectives.factor_vae import permute_dims
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import StandardNormalPrior
from vaelab.training import LinearRamp, TrainSettings, fit
from vaelab.training.checkpoint import CHECKPOINT_NAME, load_checkpoint

SETTINGS = TrainSettings(epochs=4, batch_size=32, lr=3e-3, progress=False)


def code_model(mix: list[list[float]], shift: float = 0.0, scale: float = 0.1) -> VAE:
    """A VAE on 2-d data whose posterior is q(z|x) = N(mix x + shift, scale^2 I)."""
    posterior = DiagonalGaussianPosterior(2, 2)
    with torch.no_grad():
        posterior.linear.weight.zero_()
        posterior.linear.weight[:2] = torch.tensor(mix)
        posterior.linear.bias.zero_()
        posterior.linear.bias[:2] = shift
        posterior.linear.bias[2:] = math.log(math.expm1(scale - posterior.min_scale))  # softplus^-1
    decoder = MLP((2,), [], (1, 2))
    likelihood = GaussianLikelihood((2,), scale=1.0)
    return VAE(nn.Identity(), posterior, StandardNormalPrior(2), decoder, likelihood, data_shape=(2,), latent_dim=2)


def train_discriminator(objective: FactorVAE | AdversarialAutoencoder, model: VAE, steps: int = 400) -> None:
    optimizer = objective.discriminator_optimizer()
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss = objective.discriminator_loss(model, Batch(torch.randn(256, 2, generator=g)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def balanced_accuracy(logit_positive: torch.Tensor, logit_negative: torch.Tensor) -> float:
    return 0.5 * float((logit_positive > 0).float().mean() + (logit_negative < 0).float().mean())


@pytest.mark.parametrize(
    ("mix", "total_correlation"),
    [([[1.0, 0.0], [1.0, 0.0]], -0.5 * math.log(1 - (1 / 1.01) ** 2)), ([[1.0, 0.0], [0.0, 1.0]], 0.0)],
    ids=["correlated", "independent"],
)
def test_factor_vae_discriminator_learns_the_total_correlation(
    mix: list[list[float]], total_correlation: float
) -> None:
    """Codes z_j = x_1 + 0.1 e_j have correlation 1 / 1.01 and TC = -1/2 log(1 - rho^2) = 1.96 nats; independent
    codes have TC = 0. The density-ratio estimate E log D / (1 - D) approaches it from below."""
    torch.manual_seed(0)
    model = code_model(mix)
    objective = FactorVAE(discriminator=Discriminator(2, (32, 32)), discriminator_lr=1e-3)
    train_discriminator(objective, model)
    with torch.no_grad():
        z = model.encode(torch.randn(4000, 2)).sample()
        joint, permuted = objective.critic()(z), objective.critic()(permute_dims(z))
    if total_correlation > 0:
        assert 0.5 * total_correlation < float(joint.mean()) < 1.5 * total_correlation
        assert balanced_accuracy(joint, permuted) > 0.8
    else:
        assert abs(float(joint.mean())) < 0.15
        assert balanced_accuracy(joint, permuted) < 0.55


def test_aae_discriminator_tells_a_shifted_posterior_from_the_prior() -> None:
    torch.manual_seed(0)
    model = code_model([[1.0, 0.0], [0.0, 1.0]], shift=3.0, scale=0.5)
    objective = AdversarialAutoencoder(discriminator=Discriminator(2, (32, 32)), discriminator_lr=1e-3)
    train_discriminator(objective, model)
    with torch.no_grad():
        z_q = model.encode(torch.randn(4000, 2)).sample()
        accuracy = balanced_accuracy(objective.critic()(torch.randn(4000, 2)), objective.critic()(z_q))
        generator_loss = objective(model, Batch(torch.randn(4000, 2))).terms["adversarial"].mean()
    assert accuracy > 0.9
    assert float(generator_loss) > 2 * math.log(2)  # -log D(z) at chance level would be log 2


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_aae_training_matches_the_aggregate_posterior_to_the_prior(weight: float) -> None:
    """Codes start at mean 3; the linear decoder can undo any shift, so only the adversarial term moves them."""
    data = ArrayDataset(np.random.default_rng(0).standard_normal((2048, 2)).astype(np.float32), None, None, "toy")
    torch.manual_seed(0)
    model = code_model([[1.0, 0.0], [0.0, 1.0]], shift=3.0, scale=0.5)
    objective = AdversarialAutoencoder(adversarial_weight=weight, discriminator_hidden=(32, 32), discriminator_lr=1e-3)
    fit(model, objective, data, None, TrainSettings(epochs=20, batch_size=128, lr=1e-2, progress=False))
    with torch.no_grad():
        z = model.encode(torch.from_numpy(data.x)).sample()
    if weight > 0:
        assert float(z.mean(0).abs().max()) < 0.75 and float((z.std(0) - 1).abs().max()) < 0.3
    else:
        assert float(z.mean(0).min()) > 2.0


def test_permute_dims_shuffles_each_dimension_independently() -> None:
    torch.manual_seed(0)
    z = torch.arange(400.0).reshape(100, 4)
    permuted = permute_dims(z)
    for j in range(4):
        assert torch.equal(permuted[:, j].sort().values, z[:, j])
    assert not torch.equal(permuted[:, 0] // 4, permuted[:, 1] // 4)  # rows are mixed


def factor_vae() -> FactorVAE:
    return FactorVAE(discriminator_hidden=(16, 16), discriminator_lr=1e-3)


def seeded_vae() -> VAE:
    torch.manual_seed(7)
    return tiny_vae()


def test_resume_with_a_discriminator_continues_the_same_run(tmp_path: Path) -> None:
    straight = seeded_vae()
    done = fit(straight, factor_vae(), binary_data(), None, SETTINGS, run_dir=tmp_path / "straight")

    interrupted = seeded_vae()
    half = TrainSettings(**{**SETTINGS.__dict__, "epochs": 2})
    fit(interrupted, factor_vae(), binary_data(), None, half, run_dir=tmp_path / "resumed")
    resumed = tiny_vae()  # a fresh process rebuilds the model and the objective from scratch
    again = fit(resumed, factor_vae(), binary_data(), None, SETTINGS, run_dir=tmp_path / "resumed", resume=True)

    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert isinstance(done.objective, FactorVAE) and isinstance(again.objective, FactorVAE)
    for (k, v), w in zip(
        done.objective.critic().state_dict().items(), again.objective.critic().state_dict().values(), strict=True
    ):
        assert torch.equal(v, w), k
    records = {
        name: [json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
        for name in ("straight", "resumed")
    }
    assert [r["epoch"] for r in records["resumed"]] == [1, 2, 3, 4]
    for a, b in zip(records["straight"], records["resumed"], strict=True):
        assert a["train"] == b["train"]
        assert math.isfinite(a["train"]["discriminator_loss"])


def test_the_checkpoint_holds_the_discriminator_and_the_saved_model_does_not(tmp_path: Path) -> None:
    model = tiny_vae()
    result = fit(model, factor_vae(), binary_data(64), None, TrainSettings(epochs=1, progress=False), run_dir=tmp_path)
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert isinstance(result.objective, FactorVAE)
    assert set(state["discriminator"]) == set(result.objective.critic().state_dict())
    assert state["discriminator_optimizer"]["state"]  # Adam moments were saved
    model.save(tmp_path / "saved")
    with safe_open(str(tmp_path / "saved" / "model.safetensors"), framework="pt") as f:
        assert not any("discriminator" in key or key.startswith("net.") for key in f.keys())  # noqa: SIM118
    assert set(load(tmp_path / "saved").state_dict()) == set(model.state_dict())


def test_schedules_replace_hyperparameters_but_share_the_discriminator() -> None:
    seen: list[tuple[float, int]] = []

    class Recording(FactorVAE):
        def __call__(self, model, batch):  # type: ignore[no-untyped-def]
            seen.append((self.beta, id(self.discriminator)))
            return super().__call__(model, batch)

    objective = Recording(discriminator=Discriminator(3, (8,)), discriminator_lr=1e-2)
    initial = {k: v.clone() for k, v in objective.critic().state_dict().items()}
    result = fit(
        tiny_vae(),
        objective,
        binary_data(64),
        None,
        TrainSettings(epochs=2, batch_size=16, progress=False),
        schedules={"beta": LinearRamp(end=1.0, steps=4)},
    )
    assert [beta for beta, _ in seen] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    assert {identity for _, identity in seen} == {id(objective.discriminator)}
    assert result.objective is objective  # already bound: the module the caller passed is the one trained
    trained = objective.critic().state_dict()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)


def test_resuming_a_run_without_a_discriminator_is_a_user_error(tmp_path: Path) -> None:
    fit(tiny_vae(), ELBO(), binary_data(64), None, TrainSettings(epochs=1, progress=False), run_dir=tmp_path)
    with pytest.raises(UserError, match="holds no discriminator"):
        fit(tiny_vae(), factor_vae(), binary_data(64), None, SETTINGS, run_dir=tmp_path, resume=True)


def test_an_unbound_discriminator_objective_is_a_user_error() -> None:
    with pytest.raises(UserError, match="has no discriminator yet"):
        FactorVAE()(tiny_vae(), Batch(torch.zeros(4, 1, 4, 4)))
    bound = AdversarialAutoencoder().bind(tiny_vae(), 10)
    assert isinstance(bound.discriminator, Discriminator) and bound.discriminator.latent_dim == 3
    assert bound.bind(tiny_vae(), 10) is bound
