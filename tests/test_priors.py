"""Mixture-of-Gaussians and VampPrior priors: normalisation, Monte Carlo KL against quadrature, the shared
encoder held once, and the ``mog-prior`` / ``vamp`` presets end to end.

The ``check_*`` helpers and ``train_through_cli`` are used by every new-variant test file.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal
from typer.testing import CliRunner

import vaelab
from helpers import tiny_vae
from vaelab.cli.main import app
from vaelab.data.batch import Batch
from vaelab.distributions import DiagonalGaussianMixture, kl_estimate
from vaelab.distributions import gaussian_mixture as gaussian_mixture_module
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.nn import MLP
from vaelab.objectives import ELBO, IWAE
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import MixtureOfGaussiansPrior, VampPrior

FAST = ["--epochs", "1", "--latent-dim", "4", "--no-progress", "--no-report"]
MLP_FLAGS = ["--hidden-dims", "32"]
SMALL = ["--set", "model.prior_components=8"]


# ------------------------------------------------------------------ helpers shared by the variant tests
def binary_batch(n: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(seed)).float()


def check_gradients_reach_every_parameter(model: VAE) -> None:
    """ELBO and IWAE losses both reach every parameter with finite, non-zero gradients."""
    for objective in (ELBO(), IWAE(num_samples=3)):
        model.zero_grad()
        torch.manual_seed(0)
        objective(model, Batch(binary_batch())).loss.backward()
        for name, parameter in model.named_parameters():
            assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
            assert parameter.grad.abs().sum() > 0, name


@torch.no_grad()
def check_iwae_not_below_elbo(model: VAE) -> None:
    """E[IWAE_K] >= ELBO (Burda et al. 2016, Theorem 1): independent estimates, the ELBO's allowed 4
    standard errors (a false alarm rate below 1e-4)."""
    torch.manual_seed(0)
    x = binary_batch(64)
    log_w = model(Batch(x), num_samples=400).log_weights()  # (S, B)
    assert torch.isfinite(log_w).all()
    elbo, elbo_stderr = log_w.mean(), log_w.std() / math.sqrt(log_w.numel())
    iwae_k = model.log_likelihood(x, num_samples=400).mean()
    assert iwae_k >= elbo - 4 * elbo_stderr


def check_round_trip(model: VAE, directory: Path) -> VAE:
    """Save, ``vaelab.load``: identical weights and identical seeded outputs (weights, samples, embeddings)."""
    model.eval()
    model.save(directory)
    loaded = vaelab.load(directory)
    x = binary_batch(8)
    outputs = []
    for m in (model, loaded):
        torch.manual_seed(5)
        outputs.append((m(Batch(x), num_samples=3).log_weights(), m.sample(4), m.embed(x), m.elbo(x)))
    for a, b in zip(*outputs, strict=True):
        assert torch.equal(a, b)
    return loaded


def train_through_cli(run_dir: Path, *args: str, metrics: str = "likelihood,latent") -> dict[str, float]:
    """``vaelab train`` in-process with small settings, then ``vaelab eval --json``; returns the eval JSON."""
    runner = CliRunner()
    network = [] if "conv" in args else MLP_FLAGS
    result = runner.invoke(app, ["train", *FAST, *network, "--out", str(run_dir), *args])
    assert result.exit_code == 0, (result.output, result.exception)
    result = runner.invoke(
        app, ["eval", str(run_dir), "--metrics", metrics, "--num-samples", "20", "--limit", "40", "--json"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    figures = json.loads(result.stdout)
    assert math.isfinite(figures["nll"]) and math.isfinite(figures["elbo"])
    return figures


def train_error(tmp_path: Path, *args: str) -> str:
    """The one-line ``UserError`` a bad ``vaelab train`` raises; nothing is written."""
    result = CliRunner().invoke(app, ["train", *FAST, "--out", str(tmp_path / "run"), *args])
    assert isinstance(result.exception, UserError), (result.output, result.exception)
    assert not (tmp_path / "run").exists()
    message = str(result.exception)
    assert "\n" not in message
    return message


def write_images(path: Path, n: int = 48, size: int = 28) -> Path:
    """An 8-bit ``(N, 1, size, size)`` npz of blurry blobs: real grey levels for the logistic likelihood."""
    rng = np.random.default_rng(0)
    grid = np.arange(size)
    centres = rng.uniform(6, size - 6, (n, 2))
    blobs = np.exp(
        -(
            (grid[None, :, None] - centres[:, 0, None, None]) ** 2
            + (grid[None, None, :] - centres[:, 1, None, None]) ** 2
        )
        / 30
    )
    np.savez(path, x=(255 * blobs).astype(np.uint8)[:, None])
    return path


# ------------------------------------------------------------------------------------------ mathematics
def _random_mixture(k: int, d: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> DiagonalGaussianMixture:
    g = torch.Generator().manual_seed(seed)
    return DiagonalGaussianMixture(
        torch.randn(k, generator=g, dtype=dtype),
        2 * torch.randn(k, d, generator=g, dtype=dtype),
        0.3 + torch.rand(k, d, generator=g, dtype=dtype),
    )


def test_gaussian_mixture_equals_torch_mixture_in_any_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    mixture = _random_mixture(k=5, d=3)
    reference = MixtureSameFamily(
        Categorical(logits=mixture.logits), Independent(Normal(mixture.loc, mixture.scale), 1)
    )
    z = torch.randn(7, 11, 3, dtype=torch.float64)
    expected = reference.log_prob(z)
    assert mixture.log_prob(z).shape == (7, 11)
    assert torch.allclose(mixture.log_prob(z), expected, atol=1e-12)
    monkeypatch.setattr(gaussian_mixture_module, "CHUNK_ELEMENTS", 10)  # two rows per chunk
    assert torch.allclose(mixture.log_prob(z), expected, atol=1e-12)
    assert torch.allclose(mixture.mean, reference.mean, atol=1e-12)


def test_gaussian_mixture_rejects_mismatched_parameters() -> None:
    with pytest.raises(ValueError, match=r"logits \(K,\) and loc, scale \(K, D\)"):
        DiagonalGaussianMixture(torch.zeros(3), torch.zeros(4, 2), torch.ones(4, 2))


def _integrate_2d(values: torch.Tensor, grid: torch.Tensor) -> float:
    """Trapezoid rule over the square grid ``grid`` x ``grid`` of ``values`` (G, G)."""
    return float(torch.trapezoid(torch.trapezoid(values, grid, dim=1), grid))


def _square_grid(half_width: float, points: int = 801) -> tuple[torch.Tensor, torch.Tensor]:
    grid = torch.linspace(-half_width, half_width, points, dtype=torch.float64)
    return grid, torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1)  # (G,), (G, G, 2)


def test_mixture_of_gaussians_prior_is_normalised_and_samples_follow_it() -> None:
    torch.manual_seed(0)
    prior = MixtureOfGaussiansPrior(latent_dim=2, num_components=4).double()
    with torch.no_grad():
        prior.logits.normal_()
        prior.raw_scale.normal_()
    p_z = prior()
    grid, points = _square_grid(12.0)
    density = p_z.log_prob(points).detach().exp()  # (G, G)
    assert abs(_integrate_2d(density, grid) - 1) < 1e-4
    samples = p_z.sample((200_000,))  # (N, 2)
    # First and second moments by quadrature vs the sample moments, within 5 standard errors.
    for power in (1, 2):
        for j in range(2):
            exact = _integrate_2d(points[..., j] ** power * density, grid)
            sample = samples[:, j] ** power
            assert abs(float(sample.mean()) - exact) < 5 * float(sample.std()) / math.sqrt(len(sample))


def test_monte_carlo_kl_to_a_mixture_prior_matches_quadrature() -> None:
    torch.manual_seed(0)
    p_z = _random_mixture(k=3, d=1, seed=1)
    q_z = Independent(Normal(torch.tensor([[0.3]], dtype=torch.float64), torch.tensor([[0.7]], dtype=torch.float64)), 1)
    z = q_z.sample((200_000,))  # (N, 1, 1)
    estimate = kl_estimate(q_z, p_z, z)  # no closed form: the Monte Carlo branch
    log_ratio = q_z.log_prob(z) - p_z.log_prob(z)
    stderr = float(log_ratio.std() / math.sqrt(len(z)))
    grid = torch.linspace(-12, 12, 200_001, dtype=torch.float64).unsqueeze(-1)
    log_q = Normal(0.3, 0.7).log_prob(grid[:, 0])
    exact = float(torch.trapezoid(log_q.exp() * (log_q - p_z.log_prob(grid)), grid[:, 0]))
    assert estimate.shape == (1,)
    assert abs(float(estimate) - exact) < 5 * stderr


def _vamp_parts(data_dim: int = 3, latent_dim: int = 2) -> tuple[MLP, DiagonalGaussianPosterior, VampPrior]:
    torch.manual_seed(0)
    encoder = MLP((data_dim,), [], (8,), final_activation=True).double()
    posterior = DiagonalGaussianPosterior(8, latent_dim).double()
    prior = VampPrior(encoder, posterior, (data_dim,), num_components=5).double()
    with torch.no_grad():
        prior.pseudo_inputs.normal_(0, 2)  # spread the components apart
    return encoder, posterior, prior


def test_vamp_prior_is_the_mean_of_the_pseudo_input_posteriors_and_normalised() -> None:
    encoder, posterior, prior = _vamp_parts()
    p_z = prior()
    z = torch.randn(6, 4, 2, dtype=torch.float64)
    q_u = posterior(encoder(prior.pseudo_inputs))  # batch (K,)
    expected = torch.logsumexp(q_u.log_prob(z.unsqueeze(-2)), dim=-1) - math.log(5)  # (1/K) sum_k q(z | u_k)
    assert torch.allclose(p_z.log_prob(z), expected, atol=1e-12)
    grid, points = _square_grid(15.0)
    assert abs(_integrate_2d(p_z.log_prob(points).detach().exp(), grid) - 1) < 1e-4


def test_vamp_prior_holds_the_encoder_without_owning_it() -> None:
    model = tiny_vae(preset="vamp", prior_components=6)
    assert isinstance(model.prior, VampPrior)
    assert model.prior._encoder is model.encoder and model.prior._posterior is model.posterior
    prior_keys = [k for k in model.state_dict() if k.startswith("prior.")]
    assert prior_keys == ["prior.pseudo_inputs"]  # the encoder's weights are stored once, under encoder.
    assert model.prior.pseudo_inputs.shape == (6, 1, 4, 4)
    clone = copy.deepcopy(model)  # the references follow the copy
    assert clone.prior._encoder is clone.encoder and clone.prior._posterior is clone.posterior
    with torch.no_grad():
        model.encoder.net[0].weight.add_(1.0)  # the prior sees encoder changes at once
        shifted = model.prior().loc
        assert not torch.allclose(shifted, clone.prior().loc)


def test_vamp_prior_refuses_a_posterior_that_is_not_gaussian() -> None:
    encoder, _, _ = _vamp_parts()
    bad = VampPrior(encoder, lambda h: Normal(h[..., :2], 1.0), (3,), num_components=4).double()
    with pytest.raises(UserError, match="diagonal Gaussian"):
        bad()


# ---------------------------------------------------------------------------------------- presets
@pytest.mark.parametrize("preset", ["vamp", "mog-prior"])
def test_prior_presets_train_bound_and_round_trip(preset: str, tmp_path: Path) -> None:
    model = tiny_vae(preset=preset, prior_components=5)
    check_gradients_reach_every_parameter(model)
    check_iwae_not_below_elbo(model)
    check_round_trip(model, tmp_path / "saved")


@pytest.mark.parametrize("preset", ["vamp", "mog-prior"])
def test_prior_presets_train_through_the_cli(preset: str, tmp_path: Path) -> None:
    train_through_cli(tmp_path / preset, "--model", preset, *SMALL)


def test_vamp_with_iwae_conv_networks_and_logistic_likelihood(tmp_path: Path) -> None:
    images = write_images(tmp_path / "blobs.npz")
    train_through_cli(
        tmp_path / "run",
        *("--model", "vamp", "--data", str(images), "--network", "conv", "--likelihood", "logistic"),
        *("--set", "objective.name=iwae", "--num-samples", "3", *SMALL),
        *("--set", "model.network.channels=[8,8]", "--set", "model.network.hidden=32"),
    )
    loaded = vaelab.load(tmp_path / "run")
    assert loaded.prior.pseudo_inputs.shape == (8, 1, 28, 28)


def test_vamp_prior_is_refused_where_it_is_undefined(tmp_path: Path) -> None:
    assert "conditional" in train_error(tmp_path, "--model", "cvae", "--set", "model.prior=vamp")
    assert "flow posteriors" in train_error(tmp_path, "--model", "vamp", "--set", "model.posterior=planar")
    assert "unknown prior" in train_error(tmp_path, "--set", "model.prior=nonsense")
