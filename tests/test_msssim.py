"""SSIM and MS-SSIM (vaelab.nn.ssim) against a direct implementation of the formulas, and the MS-SSIM VAE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import run_cli, tiny_vae
from vaelab import load
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.nn.ssim import SCALE_WEIGHTS, ms_ssim, scales_for, ssim
from vaelab.objectives.msssim_vae import MSSSIMVAE

F64 = torch.float64


def images(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def smooth_images(n: int, side: int, seed: int = 0) -> torch.Tensor:
    """Blurred noise in [0, 1], (n, 1, side, side): images with structure at several scales."""
    x = torch.nn.functional.avg_pool2d(images((n, 1, side + 3, side + 3), seed), 4, stride=1)
    return (x - x.amin()) / (x.amax() - x.amin())


# ----------------------------------------------------------------------------- a direct reference in numpy


def reference_ssim_parts(x: np.ndarray, y: np.ndarray, window: int) -> tuple[float, float]:
    """Mean SSIM and mean cs of two 2-D images by the formulas of Wang et al. 2004, a window position at a
    time: weighted means, centred variances and covariance under the 2-D Gaussian window (sigma 1.5)."""
    offsets = np.arange(window) - (window - 1) / 2
    g = np.exp(-(offsets**2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    ssims, css = [], []
    for i in range(x.shape[0] - window + 1):
        for j in range(x.shape[1] - window + 1):
            a, b = x[i : i + window, j : j + window], y[i : i + window, j : j + window]
            mu_a, mu_b = (w * a).sum(), (w * b).sum()
            var_a, var_b = (w * (a - mu_a) ** 2).sum(), (w * (b - mu_b) ** 2).sum()
            cov = (w * (a - mu_a) * (b - mu_b)).sum()
            cs = (2 * cov + c2) / (var_a + var_b + c2)
            ssims.append((2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1) * cs)
            css.append(cs)
    return float(np.mean(ssims)), float(np.mean(css))


def halve(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    return x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))


def test_ssim_matches_the_formula_computed_window_by_window() -> None:
    x, y = images((1, 1, 9, 10), 1), images((1, 1, 9, 10), 2)
    y = 0.5 * x + 0.5 * y  # correlated, so every factor matters
    expected, _ = reference_ssim_parts(x[0, 0].numpy(), y[0, 0].numpy(), window=7)
    assert ssim(x, y, window=7).item() == pytest.approx(expected, rel=1e-10)


def test_ms_ssim_on_28_pixels_is_the_weighted_product_over_two_scales() -> None:
    x = smooth_images(1, 28, seed=3)
    y = (x + 0.1 * images(x.shape, 4)).clamp(0, 1)
    a, b = x[0, 0].numpy(), y[0, 0].numpy()
    _, cs_1 = reference_ssim_parts(a, b, window=11)
    ssim_2, _ = reference_ssim_parts(halve(a), halve(b), window=11)
    w1, w2 = np.array(SCALE_WEIGHTS[:2]) / sum(SCALE_WEIGHTS[:2])
    assert ms_ssim(x, y).item() == pytest.approx(cs_1**w1 * ssim_2**w2, rel=1e-10)


def test_the_scale_rule_keeps_every_scale_at_least_a_window_wide() -> None:
    assert scales_for(8, 8) == (7, 1)  # digits: SSIM with a 7-pixel window
    assert scales_for(28, 28) == (11, 2)  # MNIST: 28 and 14 pixels (7 < 11)
    assert scales_for(64, 64) == (11, 3)
    assert scales_for(176, 176) == (11, 5)
    assert scales_for(1000, 1000) == (11, 5)  # at most the five weights of Wang et al.
    assert scales_for(28, 4) == (3, 1)  # the smaller side decides
    for side in range(1, 200):
        window, scales = scales_for(side, side)
        assert window % 2 == 1 and window <= side
        assert side // 2 ** (scales - 1) >= window
        assert scales == 5 or side // 2**scales < window


# ------------------------------------------------------------------------------------------- properties


@pytest.mark.parametrize("side", [8, 28, 64])
def test_an_image_is_perfectly_similar_to_itself_and_less_so_with_noise(side: int) -> None:
    x = smooth_images(4, side)
    assert torch.allclose(ms_ssim(x, x), torch.ones(4, dtype=F64))
    values = [ms_ssim(x, (x + level * images(x.shape, 9)).clamp(0, 1)) for level in (0.05, 0.2, 0.5)]
    assert (values[0] < 1).all() and (values[1] < values[0]).all() and (values[2] < values[1]).all()


def test_channels_are_scored_separately_and_averaged() -> None:
    x, y = smooth_images(2, 28, 1), smooth_images(2, 28, 2)
    both = ms_ssim(torch.cat([x, x], 1), torch.cat([x, y], 1))
    assert torch.allclose(both, (1 + ms_ssim(x, y)) / 2)


@pytest.mark.parametrize("side", [8, 28])
def test_gradients_are_finite_even_for_equal_constant_and_opposite_images(side: int) -> None:
    x = smooth_images(3, side)
    pairs = [(x, images(x.shape, 5)), (x, x.clone()), (torch.full_like(x, 0.5), torch.zeros_like(x)), (x, 1 - x)]
    for a, b in pairs:
        a = a.clone().requires_grad_(True)
        ms_ssim(a, b).sum().backward()
        assert a.grad is not None and torch.isfinite(a.grad).all()


# -------------------------------------------------------------------------------------------- objective


def test_the_objective_is_the_weighted_dissimilarity_plus_the_kl_and_reports_the_elbo() -> None:
    model = tiny_vae((1, 8, 8), likelihood="continuous-bernoulli", levels=17)
    x = torch.randint(0, 17, (6, 1, 8, 8), generator=torch.Generator().manual_seed(0)).float() / 16
    objective = MSSSIMVAE(ssim_weight=50.0, beta=2.0)
    torch.manual_seed(1)
    out = objective(model, Batch(x))
    torch.manual_seed(1)
    manual = model(Batch(x))
    similarity = ms_ssim(manual.p_x.mean[0], x)
    kl = manual.kl()
    assert torch.allclose(out.loss, 50.0 * (1 - similarity).mean() + 2.0 * kl.mean())
    assert torch.allclose(out.terms["ms_ssim"], similarity)
    assert torch.allclose(out.terms["elbo"], manual.log_p_x[0] - kl)


def test_the_objective_refuses_data_that_are_not_whole_images() -> None:
    with pytest.raises(UserError, match="needs images"):
        MSSSIMVAE()(tiny_vae((5,), likelihood="gaussian", levels=None), Batch(torch.zeros(3, 5)))
    mask = torch.ones(2, 1, 4, 4, dtype=torch.bool)
    mask[0, 0, 0, 0] = False
    with pytest.raises(UserError, match="missing pixels"):
        MSSSIMVAE()(tiny_vae(), Batch(torch.zeros(2, 1, 4, 4), mask=mask))


def test_the_preset_trains_loads_and_samples_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    args = ["train", "--model", "msssim-vae", "--epochs", "2", "--hidden-dims", "32", "--latent-dim", "4"]
    code, _, err = run_cli([*args, "--no-progress", "--no-report", "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["sample", str(run_dir), "-n", "4", "--out", str(tmp_path / "s.npy")], capsys, monkeypatch)
    assert code == 0, err
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape[0] == 4 and np.isfinite(samples).all()
    model = load(run_dir)
    assert torch.isfinite(model.elbo(torch.rand(3, 1, 8, 8))).all()
