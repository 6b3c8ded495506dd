"""VAE-GAN (Larsen et al. 2016): each part's loss of Algorithm 1, the image discriminator, and the CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from helpers import run_cli, tiny_vae
from vaelab import load
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.nn.image_discriminator import ImageDiscriminator
from vaelab.objectives.vae_gan import VAEGAN, generated_images


def digit_batch(n: int = 8) -> torch.Tensor:
    return torch.randint(0, 17, (n, 1, 8, 8), generator=torch.Generator().manual_seed(0)).float() / 16


def bound_objective(dtype: torch.dtype = torch.float32, **options: object) -> tuple[torch.nn.Module, VAEGAN]:
    model = tiny_vae((1, 8, 8), likelihood="continuous-bernoulli", levels=17).to(dtype)
    objective = VAEGAN(discriminator_hidden=(16, 8, 8), **options).bind(model, 100)  # type: ignore[arg-type]
    return model, objective


def test_each_part_receives_the_gradient_of_its_own_loss_from_one_backward_pass() -> None:
    gamma, beta, pixel_weight = 0.3, 1.5, 0.2
    options = {"gamma": gamma, "beta": beta, "pixel_weight": pixel_weight, "generated": "means"}  # the paper's
    model, objective = bound_objective(torch.float64, **options)
    x = digit_batch().double()
    encoder = [*model.encoder.parameters(), *model.posterior.parameters()]
    decoder = list(model.decoder.parameters())
    discriminator = objective.critic()
    assert isinstance(discriminator, ImageDiscriminator)

    torch.manual_seed(3)  # the paper's losses, part by part (Algorithm 1), with the same draws
    out = model(Batch(x))
    reconstruction = out.p_x.mean[0]
    x_p = model.decode(model.prior_sample(len(x))).mean
    feature_error = 0.5 * (discriminator.features(x) - discriminator.features(reconstruction)).square().sum(-1)
    generator = F.softplus(-discriminator(reconstruction)) + F.softplus(-discriminator(x_p))
    pixels = -pixel_weight * out.log_p_x[0].mean()
    encoder_loss = beta * out.kl().mean() + feature_error.mean() + pixels
    decoder_loss = gamma * feature_error.mean() + generator.mean() + pixels
    expected_encoder = torch.autograd.grad(encoder_loss, encoder, retain_graph=True)
    expected_decoder = torch.autograd.grad(decoder_loss, decoder, retain_graph=True)
    decoder_loss_on_encoder = torch.autograd.grad(decoder_loss, encoder)

    torch.manual_seed(3)
    objective(model, Batch(x)).loss.backward()
    for parameter, expected in zip(encoder, expected_encoder, strict=True):
        assert parameter.grad is not None and torch.allclose(parameter.grad, expected, atol=1e-12)
    for parameter, expected in zip(decoder, expected_decoder, strict=True):
        assert parameter.grad is not None and torch.allclose(parameter.grad, expected, atol=1e-12)
    assert all(p.grad is None for p in discriminator.parameters())  # only its own loss trains it
    # the parts' losses really differ: one loss for every part would give the encoder another gradient
    pairs = zip(expected_encoder, decoder_loss_on_encoder, strict=True)
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)


def test_the_reported_terms_are_the_elbo_under_the_likelihood_and_the_feature_error() -> None:
    model, objective = bound_objective(generated="means")
    x = digit_batch()
    torch.manual_seed(0)
    terms = objective(model, Batch(x)).terms
    torch.manual_seed(0)
    out = model(Batch(x))
    features = objective.critic().features
    assert torch.allclose(terms["elbo"], out.log_p_x[0] - out.kl())
    expected = 0.5 * (features(x) - features(out.p_x.mean[0])).square().sum(-1)
    assert torch.allclose(terms["feature_error"], expected, atol=1e-6)
    assert terms["generator_loss"].shape == (len(x),) and (terms["generator_loss"] > 0).all()


def test_a_discriminator_step_reduces_its_loss_on_a_fixed_batch_and_leaves_the_vae_alone() -> None:
    model, objective = bound_objective()
    objective = dataclasses.replace(objective, discriminator_lr=1e-3)
    optimizer = objective.discriminator_optimizer()
    batch = Batch(digit_batch(16))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    losses = []
    for _ in range(60):
        torch.manual_seed(0)  # the same reconstructions and prior samples each time
        loss = objective.discriminator_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[1] < losses[0] and losses[-1] < 0.8 * losses[0]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_the_discriminator_is_an_mlp_for_small_images_and_convolutional_from_16_pixels() -> None:
    small, large = ImageDiscriminator((1, 8, 8)), ImageDiscriminator((3, 28, 20))
    assert not small.convolutional and large.convolutional
    assert small(torch.rand(2, 5, 1, 8, 8)).shape == (2, 5)
    assert large(torch.rand(4, 3, 28, 20)).shape == (4,)
    features = large.features(torch.rand(4, 3, 28, 20))  # unit scale per example (Larsen et al.'s batch norm)
    assert torch.allclose(features.mean(-1), torch.zeros(4), atol=1e-5)
    assert torch.allclose(features.var(-1, unbiased=False), torch.ones(4), atol=0.01)


def test_binding_to_data_that_are_not_images_is_a_one_line_error() -> None:
    with pytest.raises(UserError, match="needs images"):
        VAEGAN().bind(tiny_vae((5,), likelihood="gaussian", levels=None), 10)


def test_the_preset_trains_samples_and_loads_without_its_discriminator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    args = ["train", "--model", "vae-gan", "--epochs", "2", "--hidden-dims", "32", "--latent-dim", "4"]
    small = ["--set", "objective.discriminator_hidden=[16,16]", "--no-progress", "--no-report"]
    code, _, err = run_cli([*args, *small, "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["sample", str(run_dir), "-n", "4", "--out", str(tmp_path / "s.npy")], capsys, monkeypatch)
    assert code == 0, err
    assert np.isfinite(np.load(tmp_path / "s.npy")).all()
    model = load(run_dir)
    assert not any("discriminator" in key for key in model.state_dict())
    assert not any("discriminator" in key for key in load_file(str(run_dir / "model.safetensors")))
    assert any("discriminator" in key for key in load_file(str(run_dir / "checkpoint.safetensors")))
    assert torch.isfinite(model.elbo(digit_batch(3))).all()


def binary_objective(**options: object) -> tuple[torch.nn.Module, VAEGAN]:
    model = tiny_vae((1, 8, 8), likelihood="bernoulli", levels=2)
    return model, VAEGAN(discriminator_hidden=(16, 8, 8), **options).bind(model, 100)  # type: ignore[arg-type]


def binary_batch(n: int = 8) -> torch.Tensor:
    return (digit_batch(n) > 0.5).float()


def discriminator_inputs(objective: VAEGAN) -> list[torch.Tensor]:
    """The images each later call of the discriminator's feature layers receives, appended as they come."""
    seen: list[torch.Tensor] = []
    objective.critic().features.register_forward_pre_hook(lambda _, inputs: seen.append(inputs[0].detach()))
    return seen


def test_relaxed_bernoulli_pixels_lie_in_the_unit_interval_and_exceed_a_half_with_the_bernoulli_probability() -> None:
    torch.manual_seed(0)
    logits = torch.tensor([-2.0, 0.0, 1.0, 3.0]).expand(20000, 4)
    p_x = torch.distributions.Independent(torch.distributions.Bernoulli(logits=logits), 1)
    for temperature in (0.2, 0.5, 1.0):
        samples = generated_images(p_x, "samples", temperature)
        assert ((samples > 0) & (samples < 1)).all()
        # binary Concrete (Maddison et al. 2017, §3.3): P(X > 1/2) = P(l + L > 0) = sigmoid(l) at any temperature
        assert torch.allclose((samples > 0.5).float().mean(0), torch.sigmoid(logits[0]), atol=0.015)
    cold, warm = generated_images(p_x, "samples", 0.1), generated_images(p_x, "samples", 1.0)
    distance = lambda s: torch.minimum(s, 1 - s).mean()  # noqa: E731  (how far from 0 or 1)
    assert distance(cold) < 0.5 * distance(warm)
    assert torch.equal(generated_images(p_x, "means", 0.5), p_x.mean)


def test_the_discriminator_sees_relaxed_samples_that_carry_gradients_to_the_decoder() -> None:
    model, objective = binary_objective(sample_temperature=0.5, pixel_weight=0.0)
    x = binary_batch()
    seen = discriminator_inputs(objective)
    torch.manual_seed(0)
    objective(model, Batch(x)).loss.backward()
    (images,) = seen
    real, generated = images[: len(x)], images[len(x) :]  # x; x~, x~', x_p
    assert torch.equal(real, x)
    assert ((generated > 0) & (generated < 1)).all()
    torch.manual_seed(0)
    means = model(Batch(x)).p_x.mean[0]
    assert not torch.allclose(generated[: len(x)], means, atol=1e-3)  # samples, not the means
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decoder.parameters())

    seen.clear()  # the discriminator's own step sees relaxed samples as well
    objective.discriminator_loss(model, Batch(x))
    (images,) = seen
    assert torch.equal(images[: len(x)], x) and ((images[len(x) :] > 0) & (images[len(x) :] < 1)).all()


@pytest.mark.parametrize("step", ["vae", "discriminator"])
def test_instance_noise_of_the_given_std_is_added_to_real_and_generated_images_alike(step: str) -> None:
    sigma = 0.3
    model, objective = binary_objective(generated="means", instance_noise=sigma)
    x = binary_batch(64)
    seen = discriminator_inputs(objective)
    torch.manual_seed(0)
    if step == "vae":
        objective(model, Batch(x))
    else:
        objective.discriminator_loss(model, Batch(x))
    (images,) = seen
    torch.manual_seed(0)
    out = model(Batch(x))
    means = out.p_x.mean[0]
    real_noise = images[: len(x)] - x
    generated_noise = images[len(x) : 2 * len(x)] - means  # the reconstructions' codes: the same draw of z
    for noise in (real_noise, generated_noise):
        assert abs(noise.std().item() - sigma) < 0.02 and abs(noise.mean().item()) < 0.02
    assert not torch.allclose(real_noise, generated_noise)  # independent noise


def test_an_unknown_discriminator_network_or_kind_of_generated_image_is_a_one_line_error() -> None:
    model = tiny_vae((1, 8, 8), likelihood="bernoulli", levels=2)
    with pytest.raises(UserError, match="discriminator_network"):
        VAEGAN(discriminator_network="resnet").bind(model, 10)
    with pytest.raises(UserError, match="generated is"):
        VAEGAN(generated="modes").bind(model, 10)
    assert VAEGAN(discriminator_network="conv").bind(tiny_vae((1, 16, 16), levels=2), 10).critic().convolutional
