"""Hardware options of the trainer: optimizer implementation, mixed precision, channels-last, compile."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import tiny_vae
from test_training import SETTINGS, binary_data, seeded_vae, weights
from vaelab import load
from vaelab.config import run
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig, RunConfig, TrainConfig
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit
from vaelab.training.hardware import (
    Precision,
    flushes_subnormals,
    optimizer_implementation,
    prepare_networks,
    subnormals_flushed,
    uses_channels_last,
)


def settings(**changes: object) -> TrainSettings:
    return dataclasses.replace(SETTINGS, **changes)  # type: ignore[arg-type]


def test_fused_and_foreach_adam_train_to_the_same_weights() -> None:
    runs = []
    for implementation in ("foreach", "fused"):
        model = seeded_vae()
        fit(model, ELBO(), binary_data(), None, settings(optimizer_impl=implementation))
        runs.append(weights(model))
    for name in runs[0]:
        assert torch.allclose(runs[0][name], runs[1][name], atol=1e-5), name


def test_choices_follow_the_device_and_the_setting() -> None:
    assert optimizer_implementation("auto", torch.device("cuda")) == {"fused": True}
    assert optimizer_implementation("fused", torch.device("cpu")) == {"fused": True}
    assert uses_channels_last("on", conv_vae()) and not uses_channels_last("off", conv_vae())
    assert not uses_channels_last("on", tiny_vae())  # no conv layers: nothing to gain from NHWC batches


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("optimizer_impl", "turbo", "unknown optimizer_impl 'turbo'"),
        ("precision", "fp8", "unknown precision 'fp8'"),
        ("channels_last", "yes", "unknown channels_last 'yes'"),
        ("matmul_precision", "low", "unknown matmul_precision 'low'"),
    ],
)
def test_unknown_options_are_user_errors(field: str, value: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        fit(tiny_vae(), ELBO(), binary_data(32), None, settings(**{field: value}))


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_learns_and_keeps_densities_in_float32(precision: str) -> None:
    model = tiny_vae()
    with Precision(precision, torch.device("cpu")).autocast():
        out = model(Batch(torch.from_numpy(binary_data(8).x).float()))
    assert out.log_p_x.dtype == torch.float32 and out.kl().dtype == torch.float32
    result = fit(model, ELBO(), binary_data(), binary_data(64, seed=1), settings(precision=precision))
    elbos = [r["valid"]["elbo"] for r in result.history]
    assert np.isfinite(elbos).all() and elbos[-1] > elbos[0] + 1.0


def test_fp16_resume_restores_the_loss_scale(tmp_path: Path) -> None:
    fp16 = settings(precision="fp16")
    straight = seeded_vae()
    fit(straight, ELBO(), binary_data(), None, fp16, run_dir=tmp_path / "straight")
    fit(seeded_vae(), ELBO(), binary_data(), None, dataclasses.replace(fp16, epochs=2), run_dir=tmp_path / "resumed")
    resumed = tiny_vae()
    fit(resumed, ELBO(), binary_data(), None, fp16, run_dir=tmp_path / "resumed", resume=True)
    for name, value in weights(straight).items():
        assert torch.equal(value, resumed.state_dict()[name]), name


def conv_vae() -> torch.nn.Module:
    torch.manual_seed(3)
    config = ModelConfig(likelihood="bernoulli", latent_dim=3, network="conv")  # type: ignore[arg-type]
    return build_model(model_spec(config, ArrayDataset(np.zeros((2, 1, 12, 12), np.uint8), None, 2, "conv")))


def test_channels_last_conv_nets_compute_the_same_function(tmp_path: Path) -> None:
    x = (torch.rand(5, 1, 12, 12) > 0.5).float()
    nchw, nhwc = conv_vae(), conv_vae()
    prepare_networks(nhwc, compile_networks=False, channels_last=True)
    conv_weight = next(p for p in nhwc.parameters() if p.dim() == 4)
    assert conv_weight.is_contiguous(memory_format=torch.channels_last)
    torch.manual_seed(0)
    expected = nchw(Batch(x)).log_p_x
    torch.manual_seed(0)
    assert torch.allclose(nhwc(Batch(x.contiguous(memory_format=torch.channels_last))).log_p_x, expected, atol=1e-4)
    data = ArrayDataset((x.numpy() > 0).astype(np.uint8), None, 2, "conv")
    trained = conv_vae()
    fit(trained, ELBO(), data, None, settings(channels_last="on", epochs=1), run_dir=tmp_path / "run")
    trained.save(tmp_path / "model")  # NHWC weights save and load like any others
    loaded = load(tmp_path / "model").state_dict()
    for name, value in trained.state_dict().items():
        assert torch.equal(loaded[name], value), name


def test_compile_keeps_state_dict_keys() -> None:
    model = tiny_vae()
    keys = list(model.state_dict())
    prepare_networks(model, compile_networks=True, channels_last=False)
    assert list(model.state_dict()) == keys  # checkpoints and saved models do not change


@pytest.mark.slow
def test_compiled_training_matches_eager_training() -> None:
    runs = []
    for compiled in (False, True):
        model = seeded_vae()
        fit(model, ELBO(), binary_data(), None, settings(compile=compiled))
        runs.append(weights(model))
    for name in runs[0]:
        assert torch.allclose(runs[0][name], runs[1][name], atol=1e-4), name


HAS_FLUSH_MODE = torch.set_flush_denormal(False)  # True where the CPU has the mode (x86); it is left off


@pytest.mark.skipif(not HAS_FLUSH_MODE, reason="this CPU has no flush-to-zero mode")
def test_subnormals_count_as_zero_inside_the_block_and_the_mode_is_restored_after() -> None:
    small = torch.tensor([1e-37])
    assert not flushes_subnormals()
    assert (small * 1e-3).item() > 0  # 1e-40: a subnormal float32
    with subnormals_flushed():
        assert flushes_subnormals()
        assert (small * 1e-3).item() == 0.0
        with subnormals_flushed():  # a nested block leaves the outer block's mode on
            pass
        assert flushes_subnormals()
    assert not flushes_subnormals()
    with pytest.raises(RuntimeError), subnormals_flushed():
        raise RuntimeError("the mode is restored on the way out of a failure too")
    assert not flushes_subnormals()
    with subnormals_flushed(False):
        assert not flushes_subnormals()


@pytest.mark.skipif(not HAS_FLUSH_MODE, reason="this CPU has no flush-to-zero mode")
def test_a_run_flushes_subnormals_unless_its_config_says_not(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(run, "_train_from_config", lambda *args: seen.append(flushes_subnormals()))
    run.train_from_config(RunConfig())
    run.train_from_config(RunConfig(train=TrainConfig(flush_subnormals=False)))
    assert seen == [True, False]
    assert not flushes_subnormals()


def test_the_matmul_precision_holds_while_fit_runs_and_is_restored_after() -> None:
    seen: list[str] = []

    def record(_epoch: dict[str, object]) -> None:
        seen.append(torch.get_float32_matmul_precision())

    model = seeded_vae()
    fit(model, ELBO(), binary_data(), binary_data(64, seed=1), settings(matmul_precision="medium"), callbacks=[record])
    assert seen == ["medium"] * SETTINGS.epochs
    assert torch.get_float32_matmul_precision() == "highest"
    assert run.train_settings(TrainConfig(matmul_precision="medium"), False).matmul_precision == "medium"


def test_a_medium_precision_fit_learns_as_a_float32_one() -> None:
    """bfloat16 inputs to the products (where the CPU has them) change the bound by a small fraction."""
    bounds = []
    for name in ("highest", "medium"):
        model = seeded_vae()
        result = fit(model, ELBO(), binary_data(), binary_data(64, seed=1), settings(matmul_precision=name))
        bounds.append(result.history[-1]["valid"]["elbo"])
    assert bounds[1] == pytest.approx(bounds[0], rel=0.02)
