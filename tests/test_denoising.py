"""Denoising: the corruption processes, the denoising ELBO (Im et al. 2017), a short training run that beats the
noisy input, and ``vaelab denoise`` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from helpers import run_cli, tiny_vae
from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.batch import Batch
from vaelab.data.corruption import CORRUPTIONS, GaussianNoise, SaltAndPepper, parse_corruption
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.evaluation.psnr import psnr
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.objectives.denoising import DenoisingELBO
from vaelab.training import TrainSettings, fit

SIDE = 8  # bar images are SIDE x SIDE


def bars(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 1, SIDE, SIDE)`` uint8 binary images, each one horizontal or vertical bar of width 2."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, SIDE, SIDE), dtype=np.uint8)
    for image, vertical, start in zip(images, rng.integers(0, 2, n), rng.integers(0, SIDE - 1, n), strict=True):
        if vertical:
            image[0, :, start : start + 2] = 1
        else:
            image[0, start : start + 2, :] = 1
    return images


@pytest.fixture(scope="module")
def denoiser() -> VAE:
    """An MLP Bernoulli VAE trained for 320 steps with the denoising ELBO under Gaussian noise of std 0.3."""
    train = ArrayDataset(bars(512), None, 2, "bars", None)
    config = ModelConfig(likelihood="bernoulli", latent_dim=4, hidden_dims=[64], network="mlp")
    model = build_model(model_spec(config, train))
    settings = TrainSettings(epochs=40, batch_size=64, lr=3e-3, seed=0, progress=False)
    fit(model, DenoisingELBO(GaussianNoise(0.3)), train, settings=settings)
    return model.eval()


# ------------------------------------------------------------------------------------------------ corruption
def test_gaussian_noise_has_its_std_and_stays_in_range() -> None:
    x = torch.full((400, 500), 0.5)  # 0.5 +- 5 std: clipping is negligible
    noisy = GaussianNoise(0.1)(x, torch.Generator().manual_seed(0))
    # std of the sample std ~ 0.1 / sqrt(2 n) = 1.6e-4: 1e-3 is over 6 of them
    assert abs(float((noisy - x).std()) - 0.1) < 1e-3
    assert abs(float((noisy - x).mean())) < 1e-3
    saturated = GaussianNoise(0.5)(torch.ones(1000, 100), torch.Generator().manual_seed(1))
    assert float(saturated.min()) >= 0 and float(saturated.max()) == 1


def test_salt_and_pepper_sets_its_rate_of_entries_to_0_or_1() -> None:
    x = torch.full((400, 500), 0.5)
    noisy = SaltAndPepper(0.2)(x, torch.Generator().manual_seed(0))
    # each fraction's std ~ sqrt(0.1 * 0.9 / 2e5) = 6.7e-4: 5e-3 is over 7 of them
    assert abs(float((noisy == 0).float().mean()) - 0.1) < 5e-3
    assert abs(float((noisy == 1).float().mean()) - 0.1) < 5e-3
    assert bool(((noisy == 0) | (noisy == 1) | (noisy == x)).all())


def test_a_seeded_generator_repeats_the_draw() -> None:
    x = torch.rand(4, 1, 8, 8)
    for corruption in (GaussianNoise(0.3), SaltAndPepper(0.3)):
        first = corruption(x, torch.Generator().manual_seed(3))
        assert torch.equal(first, corruption(x, torch.Generator().manual_seed(3)))
        assert not torch.equal(first, x)


def test_parse_corruption_reads_name_and_level() -> None:
    assert parse_corruption("gaussian:0.3") == GaussianNoise(0.3)
    assert parse_corruption("salt-and-pepper:0.2") == SaltAndPepper(0.2)
    assert set(CORRUPTIONS) == {"gaussian", "salt-and-pepper"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("pepper:0.2", "unknown corruption"),
        ("gaussian", "no numeric level"),
        ("gaussian:high", "no numeric level"),
        ("gaussian:-1", "at least 0"),
        ("salt-and-pepper:1.5", "between 0 and 1"),
    ],
)
def test_bad_corruptions_are_one_line_errors(text: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle) as error:
        parse_corruption(text)
    assert "\n" not in str(error.value)


# ------------------------------------------------------------------------------------------------- objective
def test_config_builds_the_denoising_objective() -> None:
    config = ObjectiveConfig(name="denoising", corruption="salt-and-pepper:0.2", beta=2.0)
    assert build_objective(config, "vae") == DenoisingELBO(SaltAndPepper(0.2), beta=2.0)
    with pytest.raises(UserError, match="unknown corruption"):
        build_objective(ObjectiveConfig(name="denoising", corruption="blur:1"), "vae")
    with pytest.raises(UserError, match="needs a corruption"):
        build_objective(ObjectiveConfig(name="denoising"), "vae")


def _binary_batch(seed: int = 0) -> Batch:
    return Batch(torch.from_numpy(bars(16, seed)).float())


def test_in_evaluation_mode_it_is_the_elbo_of_the_clean_batch() -> None:
    model, batch = tiny_vae(data_shape=(1, SIDE, SIDE)).eval(), _binary_batch()
    torch.manual_seed(0)
    denoising = DenoisingELBO(GaussianNoise(0.5))(model, batch)
    torch.manual_seed(0)
    plain = ELBO()(model, batch)
    assert torch.equal(denoising.loss, plain.loss)
    for name, value in plain.terms.items():
        assert torch.equal(denoising.terms[name], value), name


def test_in_training_mode_it_encodes_the_corrupted_input_and_scores_the_clean_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, batch = tiny_vae(data_shape=(1, SIDE, SIDE)).train(), _binary_batch()
    seen: dict[str, torch.Tensor] = {}
    encode, log_prob = model.encode, model.likelihood.log_prob

    def spy_encode(x: torch.Tensor, *args: Any) -> Any:
        seen["encoded"] = x
        return encode(x, *args)

    def spy_log_prob(p_x: Any, x: torch.Tensor, *args: Any) -> torch.Tensor:
        seen["scored"] = x
        return log_prob(p_x, x, *args)

    monkeypatch.setattr(model, "encode", spy_encode)
    monkeypatch.setattr(model.likelihood, "log_prob", spy_log_prob)
    out = DenoisingELBO(SaltAndPepper(0.5))(model, batch)
    changed = seen["encoded"] != batch.x
    assert 0.1 < float(changed.float().mean()) < 0.4  # about a quarter of binary entries flip at rate 0.5
    assert torch.equal(seen["scored"], batch.x)
    assert torch.allclose(out.terms["elbo"], out.terms["reconstruction"] - out.terms["kl"])
    out.loss.backward()
    assert all(p.grad is not None for p in model.encoder.parameters())


def test_psnr_is_10_log10_of_one_over_the_mse() -> None:
    reference = np.zeros((2, 1, 4, 4))
    estimate = np.stack([np.full((1, 4, 4), 0.1), reference[1]])
    assert np.allclose(psnr(estimate, reference), [20.0, 100.0])  # MSE 0.01; an exact copy is capped


def test_a_short_denoising_run_beats_the_noisy_input(denoiser: VAE) -> None:
    clean = torch.from_numpy(bars(256, seed=1)).float()
    noisy = GaussianNoise(0.3)(clean, torch.Generator().manual_seed(0))
    noisy_db = psnr(noisy.numpy(), clean.numpy()).mean()
    denoised_db = psnr(denoiser.reconstruct(noisy).numpy(), clean.numpy()).mean()
    assert denoised_db > noisy_db + 3, (noisy_db, denoised_db)


# ------------------------------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def denoiser_run(denoiser: VAE, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "denoiser"
    denoiser.save(run_dir)
    return run_dir


def test_denoise_writes_images_and_reports_psnr(denoiser_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clean = bars(32, seed=2)[:, 0].astype(np.float32)  # (N, H, W) in [0, 1]
    np.save(tmp_path / "clean.npy", clean)
    args = ["denoise", str(denoiser_run), "--data", str(tmp_path / "clean.npy"), "--out", str(tmp_path / "den.npy")]
    code, out, err = run_cli([*args, "--noise", "gaussian:0.3", "--json"], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n"] == 32 and summary["psnr_denoised_db"] > summary["psnr_noisy_db"] + 3
    denoised = np.load(tmp_path / "den.npy")
    assert denoised.shape == (32, 1, SIDE, SIDE) and denoised.min() >= 0 and denoised.max() <= 1
    np.save(tmp_path / "noisy.npy", (GaussianNoise(0.3)(torch.from_numpy(clean)).numpy() * 255).astype(np.uint8))
    code, _, err = run_cli(
        ["denoise", str(denoiser_run), "--data", str(tmp_path / "noisy.npy"), "--out", str(tmp_path / "den.png")],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert (tmp_path / "den.png").is_file() and "wrote 32 denoised images" in err


@pytest.mark.parametrize(
    ("data", "extra", "needle"),
    [
        (None, [], "no such file"),
        (np.zeros((4, 7, 7), np.float32), [], "the model expects (1, 8, 8)"),
        (np.full((4, 8, 8), 2.0, np.float32), [], "outside [0, 1]"),
        (np.full((4, 8, 8), np.nan, np.float32), [], "NaN"),
        (np.zeros((4, 8, 8), np.float32), ["--noise", "blur:1"], "unknown corruption"),
    ],
)
def test_bad_denoise_input_is_one_line_and_writes_nothing(  # type: ignore[no-untyped-def]
    data, extra, needle, denoiser_run: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    if data is not None:
        np.save(tmp_path / "noisy.npy", data)
    out = tmp_path / "den.npy"
    args = ["denoise", str(denoiser_run), "--data", str(tmp_path / "noisy.npy"), "--out", str(out), *extra]
    code, stdout, err = run_cli(args, capsys, monkeypatch)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert stdout == "" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == ([] if data is None else [tmp_path / "noisy.npy"])


def test_denoise_refuses_an_output_it_cannot_write(denoiser_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    np.save(tmp_path / "noisy.npy", np.zeros((4, 8, 8), np.float32))
    args = ["denoise", str(denoiser_run), "--data", str(tmp_path / "noisy.npy"), "--out", str(tmp_path / "den.csv")]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 1 and "--out must end in .npy or .png" in err
