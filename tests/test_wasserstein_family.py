"""The Wasserstein and regularised autoencoders (WAE-MMD, WAE-GAN, SWAE, RAE): their penalties against exact
values, the ex-post Gaussian mixture prior against scikit-learn, and each preset through the command line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance
from sklearn.mixture import GaussianMixture
from torch import nn
from torch.distributions import Independent, Normal

import vaelab
from helpers import run_cli, tiny_vae
from vaelab.config.build import build_objective
from vaelab.config.schema import ObjectiveConfig
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.evaluation.latent import latent_diagnostics
from vaelab.evaluation.likelihood import likelihood_per_example
from vaelab.models import elbo_terms
from vaelab.objectives import AdversarialAutoencoder, InfoVAE
from vaelab.objectives.mmd import WAE_MULTIPLIERS, mmd
from vaelab.objectives.rae import RegularisedAutoencoder, decoder_jacobian_norm, squared_weights
from vaelab.objectives.swae import SlicedWassersteinAutoencoder, sliced_wasserstein
from vaelab.priors.fitted_mixture import FittedGaussianMixturePrior
from vaelab.training import TrainSettings, fit

F64 = torch.float64


# ------------------------------------------------------------------------------- sliced Wasserstein


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_sliced_wasserstein_in_one_dimension_is_the_exact_wasserstein_distance(power: float) -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 1, generator=g, dtype=F64), 2 * torch.rand(200, 1, generator=g, dtype=F64)
    estimate = sliced_wasserstein(a, b, num_projections=7, power=power)  # every direction is +1 or -1
    sorted_difference = (a.sort(0).values - b.sort(0).values).abs().pow(power).mean()
    assert float(estimate) == pytest.approx(float(sorted_difference), rel=1e-12)
    if power == 1.0:  # W_1 of two empirical distributions, computed independently by SciPy
        assert float(estimate) == pytest.approx(wasserstein_distance(a[:, 0].numpy(), b[:, 0].numpy()), rel=1e-10)


def test_sliced_wasserstein_is_zero_for_one_sample_and_grows_with_a_shift_as_expected() -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(256, 4, generator=g, dtype=F64)
    assert float(sliced_wasserstein(a, a.clone())) == 0.0
    direction = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=F64) / math.sqrt(2)
    torch.manual_seed(0)
    for shift in (0.5, 2.0):
        # A shift by s u moves each projection by s (theta . u), so SW_2^2 = s^2 E (theta . u)^2 = s^2 / D.
        estimate = sliced_wasserstein(a, a + shift * direction, num_projections=4000)
        assert float(estimate) == pytest.approx(shift**2 / 4, rel=0.05)
        one_dimensional = sliced_wasserstein(a[:, :1], a[:, :1] + shift, power=1.0)
        assert float(one_dimensional) == pytest.approx(shift, rel=1e-12)  # W_1 of a shift is the shift
    with pytest.raises(UserError, match="two samples of shape"):
        sliced_wasserstein(a, a[:10])


def test_swae_loss_is_the_reconstruction_plus_the_weighted_distance() -> None:
    model, x = tiny_vae(posterior="point"), binary_batch()
    out = SlicedWassersteinAutoencoder(sliced_weight=3.0)(model, Batch(x))
    distance = out.terms["sliced_wasserstein"][0]
    assert torch.allclose(out.loss, -out.terms["reconstruction"].mean() + 3.0 * distance)
    assert float(distance.detach()) > 0


# ------------------------------------------------------------------------------------------ IMQ MMD


def test_the_wae_kernel_sum_is_the_sum_of_single_scale_estimates_and_tells_shifts_apart() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, 3, generator=g, dtype=F64), torch.randn(40, 3, generator=g, dtype=F64) + 0.3
    summed = mmd(a, b, "imq", multipliers=WAE_MULTIPLIERS)
    singles = sum(float(mmd(a, b, "imq", scale=6.0 * m)) for m in WAE_MULTIPLIERS)  # C = 2 d_z = 6
    assert float(summed) == pytest.approx(singles, rel=1e-12)

    def imq(shift: float) -> torch.Tensor:
        return mmd(
            torch.randn(64, 3, generator=g), torch.randn(64, 3, generator=g) + shift, "imq", multipliers=WAE_MULTIPLIERS
        )

    same = torch.stack([imq(0.0) for _ in range(300)])
    shifted = torch.stack([imq(0.5) for _ in range(300)])
    assert abs(float(same.mean())) < 5 * float(same.std()) / math.sqrt(300)  # unbiased: mean 0
    assert float(shifted.mean()) > 10 * float(shifted.std()) / math.sqrt(300)


def test_the_wae_presets_build_the_wae_objectives() -> None:
    wae_mmd = build_objective(ObjectiveConfig(), "wae-mmd")
    assert isinstance(wae_mmd, InfoVAE)
    assert (wae_mmd.beta, wae_mmd.mmd_kernel, wae_mmd.mmd_multipliers) == (0.0, "imq", WAE_MULTIPLIERS)
    wae_gan = build_objective(ObjectiveConfig(adversarial_weight=2.0), "wae-gan")
    assert isinstance(wae_gan, AdversarialAutoencoder) and wae_gan.adversarial_weight == 2.0
    assert wae_gan.discriminator_hidden == (512, 512, 512, 512)
    rae = build_objective(ObjectiveConfig(regulariser="gradient-penalty"), "rae")  # type: ignore[call-arg]
    assert rae == RegularisedAutoencoder(regulariser="gradient-penalty")
    with pytest.raises(UserError, match=r"objective\.regulariser"):
        build_objective(ObjectiveConfig(regulariser="l1"), "rae")  # type: ignore[call-arg]


def test_wae_mmd_with_a_point_posterior_is_reconstruction_plus_weighted_mmd() -> None:
    model, x = tiny_vae(posterior="point"), binary_batch()
    objective = build_objective(ObjectiveConfig(mmd_weight=7.0), "wae-mmd")
    out = objective(model, Batch(x))
    assert torch.allclose(out.loss, -out.terms["reconstruction"].mean() + 7.0 * out.terms["mmd"][0])


# ------------------------------------------------------------------------------------------------- RAE


def test_the_gradient_penalty_is_the_squared_jacobian_norm_computed_by_autograd() -> None:
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2 * 4)).double()
    shaped = lambda z: decoder(z).reshape(*z.shape[:-1], 2, 4)  # noqa: E731 (an output of shape (2, 4))
    z = torch.randn(6, 3, dtype=F64)
    penalty = decoder_jacobian_norm(shaped, z)
    by_hand = torch.stack([torch.autograd.functional.jacobian(shaped, row).pow(2).sum() for row in z])  # (2, 4, 3)
    assert torch.allclose(penalty, by_hand, rtol=1e-12)
    penalty.sum().backward()  # differentiable in the decoder's weights; the output's bias moves no derivative
    *shaping, output_bias = decoder.parameters()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in shaping)
    assert output_bias.grad is None or not output_bias.grad.any()
    linear = nn.Linear(3, 4, bias=False).double()  # a linear decoder's Jacobian is its weight
    assert torch.allclose(decoder_jacobian_norm(linear, z), linear.weight.pow(2).sum().expand(6))


@pytest.mark.parametrize("regulariser", ["l2", "gradient-penalty"])
def test_rae_loss_is_reconstruction_plus_code_and_decoder_penalties(regulariser: str) -> None:
    torch.manual_seed(0)
    model, x = tiny_vae(posterior="point", prior="fitted-mixture"), binary_batch()
    objective = RegularisedAutoencoder(code_weight=0.5, decoder_weight=0.1, regulariser=regulariser)  # type: ignore[arg-type]
    out = objective(model, Batch(x))
    z = model.embed(x).clone()  # the deterministic codes (out of inference mode)
    assert torch.allclose(out.terms["code_penalty"], 0.5 * z.pow(2).sum(-1))
    if regulariser == "l2":
        expected = squared_weights(model.decoder).expand(len(x))
    else:
        expected = decoder_jacobian_norm(model.decoder, z)
    assert torch.allclose(out.terms["decoder_penalty"], expected.detach())
    reference = -out.terms["reconstruction"].mean() + 0.25 * z.pow(2).sum(-1).mean() + 0.1 * expected.mean()
    assert torch.allclose(out.loss, reference)
    out.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


# ------------------------------------------------------------------------------- the ex-post mixture


def mixture_codes(n: int = 600, seed: int = 0) -> torch.Tensor:
    """Codes from three well-separated correlated Gaussians in 2-D, (n, 2)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-4.0, 0.0], [4.0, 1.0], [0.0, 5.0]])
    mixing = np.array([[1.0, 0.0], [0.8, 0.5]])
    return torch.from_numpy(centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 2)) @ mixing).float()


def test_the_fitted_mixture_is_a_standard_normal_until_fitted_then_sklearns_mixture() -> None:
    prior = FittedGaussianMixturePrior(latent_dim=2, num_components=3)
    codes = mixture_codes()
    standard = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    assert torch.allclose(prior().log_prob(codes), standard.log_prob(codes), atol=1e-5)
    assert not bool(prior.fitted)
    prior.fit_codes(codes)
    reference = GaussianMixture(3, covariance_type="full", random_state=0).fit(codes.double().numpy())
    expected = torch.from_numpy(reference.score_samples(codes.double().numpy()))
    assert bool(prior.fitted)
    assert torch.allclose(prior().log_prob(codes).double(), expected, atol=1e-4)
    draws = prior().sample((4000,))  # (4000, 2): the sample mean is the mixture's mean
    mean = torch.from_numpy(reference.weights_ @ reference.means_).float()
    assert torch.allclose(draws.mean(0), mean, atol=0.2)


def test_the_fitted_mixture_needs_enough_codes_and_whole_codes() -> None:
    with pytest.raises(UserError, match="only 5"):
        FittedGaussianMixturePrior(2, 10).fit_codes(torch.randn(5, 2))
    with pytest.raises(UserError, match="not a ladder's top layer"):
        tiny_vae(posterior="ladder", prior="fitted-mixture")


def test_fit_fits_the_mixture_to_the_trained_codes_and_it_survives_save_and_load(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x = np.random.default_rng(0).integers(0, 2, size=(60, 1, 4, 4)).astype(np.uint8)
    data = ArrayDataset(x, None, 2, "tiny")
    model = tiny_vae(posterior="point", prior="fitted-mixture")
    fit(model, RegularisedAutoencoder(), data, None, TrainSettings(epochs=2, batch_size=20, progress=False))
    codes = model.embed(torch.from_numpy(x).float())
    assert bool(model.prior.fitted)
    reference = GaussianMixture(10, covariance_type="full", random_state=0).fit(codes.double().numpy())
    expected = torch.from_numpy(reference.score_samples(codes.double().numpy()))
    assert torch.allclose(model.p_z().log_prob(codes).double(), expected, atol=1e-3)
    model.save(tmp_path)
    loaded = vaelab.load(tmp_path)
    assert bool(loaded.prior.fitted)
    assert torch.equal(loaded.p_z().log_prob(codes), model.p_z().log_prob(codes))
    torch.manual_seed(1)
    samples = loaded.sample(3)
    torch.manual_seed(1)
    assert torch.equal(samples, model.sample(3))


def test_evaluation_reports_no_importance_sampled_likelihood_for_deterministic_codes() -> None:
    x = np.random.default_rng(0).integers(0, 2, size=(8, 1, 4, 4)).astype(np.uint8)
    data = ArrayDataset(x, None, 2, "tiny")
    values = likelihood_per_example(tiny_vae(posterior="point"), data, num_samples=4)
    assert {"elbo", "reconstruction", "kl"} <= set(values) and "nll" not in values and "bits_per_dim" not in values
    torch.manual_seed(0)
    model = tiny_vae(posterior="point")
    out = model(Batch(torch.from_numpy(x).float()))
    assert torch.allclose(elbo_terms(out)["elbo"], out.log_p_x[0] + out.p_z.log_prob(out.z[0]))  # log p(x, z)
    assert "nll" in likelihood_per_example(tiny_vae(), data, num_samples=4)
    latent = latent_diagnostics(tiny_vae(posterior="point"), data)  # nor a mutual information of log q = 0
    assert latent["mutual_information"] is None and "point posterior" in latent["mutual_information_unavailable"]


# ------------------------------------------------------------------------------------------------- CLI

PRESET_OPTIONS = {
    "wae-mmd": [],
    "wae-gan": ["--set", "objective.discriminator_hidden=[16]"],
    "swae": [],
    "rae": [],
    "rae-gp": ["--set", "objective.regulariser=gradient-penalty"],
    "swae-ex-post": ["--set", "model.prior=fitted-mixture"],  # any model can sample from the ex-post mixture
}


@pytest.mark.parametrize("name", PRESET_OPTIONS)
def test_each_preset_trains_samples_and_loads_through_the_cli(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / name
    model = name.removesuffix("-gp").removesuffix("-ex-post")
    args = ["train", "--model", model, "--data", "digits", "--epochs", "1", "--hidden-dims", "16", "--latent-dim", "3"]
    code, _, err = run_cli(
        [*args, *PRESET_OPTIONS[name], "--no-progress", "--no-report", "--out", str(run_dir)], capsys, monkeypatch
    )
    assert code == 0, err
    loaded = vaelab.load(run_dir)
    assert not any("discriminator" in key for key in loaded.state_dict())  # WAE-GAN's stays out of the model
    assert type(loaded.posterior).__name__ == "PointPosterior"
    if model == "rae" or name.endswith("-ex-post"):
        assert bool(loaded.prior.fitted)
    code, _, err = run_cli(
        ["sample", str(run_dir), "-n", "4", "--out", str(tmp_path / "samples.npy")], capsys, monkeypatch
    )
    assert code == 0, err
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (4, 1, 8, 8) and np.isfinite(samples).all()


def binary_batch(n: int = 16) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 2, size=(n, 1, 4, 4))).float()
