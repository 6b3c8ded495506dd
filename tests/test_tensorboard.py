"""TensorBoard logging: the event files hold each epoch's record, the samples and the latent histogram, and
logging leaves the training run unchanged."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import tiny_vae
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.training import LinearRamp, TrainSettings, fit
from vaelab.training.tensorboard import MISSING_PACKAGE, TensorBoardLogger

SETTINGS = TrainSettings(epochs=2, batch_size=64, progress=False)
BETA_WARM_UP = {"beta": LinearRamp(end=1.0, steps=30)}


def digits_vae() -> VAE:
    torch.manual_seed(7)
    return tiny_vae((1, 8, 8), levels=17)


def train(model: VAE, log_dir: Path | None, schedules: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Two epochs on the digits with validation, logged to ``log_dir`` (None: without the logger)."""
    train_split, valid_split = load_dataset("digits", "train"), load_dataset("digits", "valid")
    if log_dir is None:
        return fit(model, ELBO(), train_split, valid_split, SETTINGS, schedules).history
    with TensorBoardLogger(log_dir, model, valid_split) as logger:
        return fit(model, ELBO(), train_split, valid_split, SETTINGS, schedules, callbacks=[logger]).history


def read_events(log_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0, "histograms": 0})
    events.Reload()
    return events


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], EventAccumulator, VAE]:
    log_dir = tmp_path_factory.mktemp("run") / "tensorboard"
    model = digits_vae()
    history = train(model, log_dir, BETA_WARM_UP)
    return history, read_events(log_dir), model


def test_scalars_are_the_records_at_their_steps(logged_run: Any) -> None:
    history, events, _ = logged_run
    expected: dict[str, list[tuple[int, float]]] = {}
    for record in history:
        values = {
            **{f"train/{term}": value for term, value in record["train"].items()},
            **{f"valid/{term}": value for term, value in record["valid"].items()},
            "hparams/lr": record["lr"],
            "hparams/beta": record["beta"],
            "time/epoch_s": record["time_s"],
            "time/train_s": record["train_time_s"],
        }
        for tag, value in values.items():
            expected.setdefault(tag, []).append((record["step"], float(np.float32(value))))
    assert set(events.Tags()["scalars"]) == set(expected)
    for tag, points in expected.items():
        assert [(event.step, event.value) for event in events.Scalars(tag)] == points, tag
    assert events.Scalars("hparams/beta")[0].value < 1.0  # the warm-up shows


def test_samples_and_latent_histogram_each_epoch(logged_run: Any) -> None:
    history, events, model = logged_run
    steps = [record["step"] for record in history]
    assert [event.step for event in events.Images("samples")] == steps
    assert events.Images("samples")[0].width == 8 * 8  # 64 samples of 8x8 pixels, 8 to a row
    histograms = events.Histograms("latent/mean")
    assert [event.step for event in histograms] == steps
    assert histograms[0].histogram_value.num == len(load_dataset("digits", "valid")) * model.latent_dim


def test_logging_leaves_the_run_unchanged(logged_run: Any) -> None:
    _, _, logged = logged_run
    unlogged = digits_vae()
    train(unlogged, None, BETA_WARM_UP)
    for name, value in unlogged.state_dict().items():
        assert torch.equal(value, logged.state_dict()[name]), name


def test_a_table_model_gets_scalars_and_the_histogram_but_no_pictures(tmp_path: Path) -> None:
    rows = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    table = ArrayDataset(rows, None, None, "table")
    torch.manual_seed(0)
    model = tiny_vae((4,), likelihood="gaussian", levels=None)
    with TensorBoardLogger(tmp_path, model, table, snapshot_every=2) as logger:
        fit(model, ELBO(), table, None, TrainSettings(epochs=2, batch_size=32, progress=False), callbacks=[logger])
    tags = read_events(tmp_path).Tags()
    assert "train/elbo" in tags["scalars"] and "hparams/lr" in tags["scalars"]
    assert not any(tag.startswith("valid/") or tag == "hparams/beta" for tag in tags["scalars"])
    assert tags["images"] == []
    assert [event.step for event in read_events(tmp_path).Histograms("latent/mean")] == [4]  # epoch 2 only


def test_missing_tensorboard_is_a_one_line_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` raises ImportError
    with pytest.raises(UserError) as raised:
        TensorBoardLogger(tmp_path, tiny_vae())
    assert str(raised.value) == MISSING_PACKAGE
    assert MISSING_PACKAGE == "TensorBoard logging needs the tensorboard package: pip install 'vaelab[tensorboard]'"
