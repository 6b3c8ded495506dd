"""The trainer: learning, determinism, resume, the NaN guard, schedules, early stopping, save/load."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import tiny_vae
from vaelab import load
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.objectives import ELBO, IWAE
from vaelab.training import Cyclical, LinearRamp, TrainingDiverged, TrainSettings, fit
from vaelab.training.checkpoint import CHECKPOINT_NAME, load_checkpoint


def binary_data(n: int = 256, seed: int = 0) -> ArrayDataset:
    """Two prototypes with bit flips: a VAE can learn them quickly."""
    prototypes = np.random.default_rng(42).integers(0, 2, size=(2, 1, 4, 4))
    rng = np.random.default_rng(seed)
    x = prototypes[rng.integers(0, 2, size=n)] ^ (rng.random((n, 1, 4, 4)) < 0.05)
    return ArrayDataset(x.astype(np.uint8), rng.integers(0, 2, size=n), 2, "toy", num_classes=2)


def seeded_vae() -> torch.nn.Module:
    torch.manual_seed(7)
    return tiny_vae()


SETTINGS = TrainSettings(epochs=4, batch_size=32, lr=3e-3, progress=False)


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_improves_the_bound() -> None:
    model = seeded_vae()
    result = fit(model, ELBO(), binary_data(), binary_data(64, seed=1), SETTINGS)
    elbos = [r["valid"]["elbo"] for r in result.history]
    assert elbos[-1] > elbos[0] + 1.0
    assert set(result.history[0]["train"]) >= {"loss", "elbo", "reconstruction", "kl"}


def test_same_seed_same_weights_and_in_memory_equals_loader_path() -> None:
    runs = []
    for in_memory in (True, True, False):
        model = seeded_vae()
        fit(model, ELBO(), binary_data(), None, TrainSettings(**{**SETTINGS.__dict__, "in_memory": in_memory}))
        runs.append(weights(model))
    for k in runs[0]:
        assert torch.equal(runs[0][k], runs[1][k]), k
    # The DataLoader path visits the same batches (same permutation), up to float summation order.
    for k in runs[0]:
        assert torch.allclose(runs[0][k], runs[2][k], atol=1e-5), k


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_resume_after_interruption_continues_the_same_run(tmp_path: Path, ema_decay: float | None) -> None:
    settings = dataclasses.replace(SETTINGS, ema_decay=ema_decay)
    straight = seeded_vae()
    fit(straight, ELBO(), binary_data(), None, settings, run_dir=tmp_path / "straight")

    interrupted = seeded_vae()
    half = dataclasses.replace(settings, epochs=2)
    fit(interrupted, ELBO(), binary_data(), None, half, run_dir=tmp_path / "resumed")
    resumed = tiny_vae()  # a fresh process would rebuild the model from scratch
    fit(resumed, ELBO(), binary_data(), None, settings, run_dir=tmp_path / "resumed", resume=True)

    for k, v in weights(straight).items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_resume_without_checkpoint_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nothing to resume"):
        fit(tiny_vae(), ELBO(), binary_data(), None, SETTINGS, run_dir=tmp_path, resume=True)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    model = tiny_vae()
    fit(
        model,
        ELBO(),
        binary_data(),
        None,
        TrainSettings(**{**SETTINGS.__dict__, "epochs": 1}),
        run_dir=tmp_path,
    )
    good = (tmp_path / CHECKPOINT_NAME).read_bytes()
    with pytest.raises(TrainingDiverged, match="last good checkpoint"):
        fit(
            model,
            ELBO(),
            binary_data(),
            None,
            SETTINGS,
            run_dir=tmp_path,
            resume=True,
            schedules={"beta": lambda step: float("nan") if step >= 20 else 1.0},
        )
    assert (tmp_path / CHECKPOINT_NAME).read_bytes() != good  # epoch 2 was still good and saved
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"] == 2


def test_nan_guard_looks_every_log_interval_without_a_progress_bar(tmp_path: Path) -> None:
    steps: list[int] = []

    def diverging_beta(step: int) -> float:  # NaN from the 11th step on, the 3rd of epoch 2
        steps.append(step)
        return float("nan") if step >= 10 else 1.0

    settings = TrainSettings(**{**SETTINGS.__dict__, "log_every": 4})  # 8 steps per epoch, progress=False
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch 2.*last good checkpoint"):
        fit(tiny_vae(), ELBO(), binary_data(), None, settings, run_dir=tmp_path, schedules={"beta": diverging_beta})
    assert steps[-1] == 11  # stopped at the check after step 12, not at the end of the epoch (step 16)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"] == 1


def test_schedules_replace_objective_hyperparameters() -> None:
    seen: list[float] = []

    class Recording(ELBO):
        def __call__(self, model, batch):  # type: ignore[no-untyped-def]
            seen.append(self.beta)
            return super().__call__(model, batch)

    fit(
        tiny_vae(),
        Recording(),
        binary_data(64),
        None,
        TrainSettings(epochs=2, batch_size=16, progress=False),
        schedules={"beta": LinearRamp(end=1.0, steps=4)},
    )
    assert seen == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    with pytest.raises(UserError, match="no such hyperparameter"):
        fit(tiny_vae(), IWAE(), binary_data(64), None, SETTINGS, schedules={"capacity": LinearRamp(1.0, 2)})


def test_cyclical_schedule_follows_fu_et_al() -> None:
    schedule = Cyclical(end=1.0, total_steps=100, num_cycles=4, ratio=0.5)
    assert [schedule(s) for s in (0, 6, 12, 13, 24, 25, 30)] == pytest.approx([0, 0.48, 0.96, 1, 1, 0, 0.4])


def test_early_stopping_keeps_the_best_epoch() -> None:
    model = tiny_vae()
    result = fit(
        model,
        ELBO(),
        binary_data(),
        binary_data(64, 1),
        TrainSettings(epochs=30, batch_size=32, lr=0.5, patience=2, progress=False, grad_clip=1.0),
    )
    assert result.stopped_early
    assert result.best_epoch is not None and result.best_epoch < len(result.history)


def test_the_monitor_picks_the_kept_epoch_and_a_minus_sign_keeps_the_lowest() -> None:
    data, valid = binary_data(), binary_data(64, 1)
    settings = TrainSettings(epochs=4, batch_size=32, lr=1e-2, progress=False, monitor="-kl")
    result = fit(tiny_vae(), ELBO(beta=0.1), data, valid, settings)  # β < 1: the KL grows as training goes
    kl = [record["valid"]["kl"] for record in result.history]
    assert result.best_epoch == 1 + kl.index(min(kl))
    with pytest.raises(UserError, match=r"train\.monitor 'nats' is not a term of this objective: use one of"):
        fit(tiny_vae(), ELBO(), data, valid, dataclasses.replace(settings, monitor="nats"))


def test_save_load_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    from vaelab.config.build import build_model

    model = tiny_vae(likelihood="gaussian", levels=None, gaussian_scale="learned")
    model.likelihood.raw_scale.data.fill_(0.3)  # a learned parameter that must survive the round trip
    model.save(tmp_path)
    loaded = load(tmp_path)
    x = torch.randn(5, 1, 4, 4)
    assert torch.equal(model.encode(x).mean, loaded.encode(x).mean)
    torch.manual_seed(0)
    a = model.log_likelihood(x, num_samples=10)
    torch.manual_seed(0)
    b = loaded.log_likelihood(x, num_samples=10)
    assert torch.equal(a, b)
    assert isinstance(build_model(loaded.spec), type(model))


def test_max_steps_is_a_budget_that_can_end_mid_epoch() -> None:
    settings = TrainSettings(epochs=10, batch_size=32, progress=False, max_steps=11)
    result = fit(tiny_vae(), ELBO(), binary_data(), None, settings)  # 8 steps per epoch
    assert [r["step"] for r in result.history] == [8, 11]
    assert result.stopped_early


def test_weight_averaging_returns_the_moving_average_of_every_step() -> None:
    decay, steps = 0.7, 8  # one epoch of 8 steps
    one_epoch = TrainSettings(epochs=1, batch_size=32, lr=3e-3, progress=False)
    after_step = []  # the raw weights after each step: runs stopped there, the same seed and batches
    for k in range(1, steps + 1):
        model = seeded_vae()
        fit(model, ELBO(), binary_data(), None, dataclasses.replace(one_epoch, max_steps=k))
        after_step.append(weights(model))
    expected = after_step[0]  # the average starts at the first step's weights
    for w in after_step[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * w[k] for k in w}

    averaged = seeded_vae()
    fit(averaged, ELBO(), binary_data(), None, dataclasses.replace(one_epoch, ema_decay=decay))
    for k, v in expected.items():
        assert torch.allclose(averaged.state_dict()[k], v, atol=1e-6), k
    last = after_step[-1]
    assert any(not torch.allclose(averaged.state_dict()[k], last[k], atol=1e-4) for k in last)  # not the last weights


def test_weight_averaging_needs_a_decay_between_0_and_1() -> None:
    with pytest.raises(UserError, match="ema_decay must be in"):
        fit(tiny_vae(), ELBO(), binary_data(), None, dataclasses.replace(SETTINGS, ema_decay=1.0))


def test_an_unknown_learning_rate_schedule_is_one_line_naming_the_choices() -> None:
    with pytest.raises(UserError, match="lr_schedule must be 'constant', 'cosine' or 'cosine-time', not 'linear'"):
        fit(tiny_vae(), ELBO(), binary_data(), None, dataclasses.replace(SETTINGS, lr_schedule="linear"))


def test_the_time_cosine_follows_the_budget_clock() -> None:
    from vaelab.training.trainer import BudgetClock, _make_lr_schedule

    settings = dataclasses.replace(SETTINGS, lr=0.1, lr_schedule="cosine-time", max_minutes=1.0)
    optimizer = torch.optim.SGD(tiny_vae().parameters(), lr=settings.lr)
    clock = BudgetClock()
    schedule = _make_lr_schedule(optimizer, settings, total_steps=1, clock=clock)
    rates = []
    for spent_s in (15.0, 30.0, 45.0, 60.0, 90.0):  # t / budget = 1/4, 1/2, 3/4, 1, past the end
        clock.spent_s = spent_s
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    expected = [0.1 * (1 + np.cos(np.pi * f)) / 2 for f in (0.25, 0.5, 0.75, 1.0, 1.0)]
    assert rates == pytest.approx(expected, abs=1e-9)


def test_a_time_cosine_run_ends_its_budget_near_a_rate_of_0() -> None:
    settings = TrainSettings(epochs=10_000, batch_size=32, lr=3e-3, progress=False)
    settings = dataclasses.replace(settings, lr_schedule="cosine-time", max_minutes=0.02)  # 1.2 s
    result = fit(tiny_vae(), ELBO(), binary_data(), None, settings)
    rates = [r["lr"] for r in result.history]
    assert result.stopped_early and len(rates) > 2  # the budget, not the epochs, ended it
    assert all(a >= b for a, b in itertools.pairwise(rates)) and rates[0] < 3e-3
    assert rates[-1] < 0.01 * 3e-3  # without validation passes the last step falls at the budget's end


def test_a_time_cosine_without_a_budget_is_one_line() -> None:
    settings = dataclasses.replace(SETTINGS, lr_schedule="cosine-time")
    with pytest.raises(UserError, match="'cosine-time' anneals over a wall-clock budget: set train"):
        fit(tiny_vae(), ELBO(), binary_data(), None, settings)


def test_max_minutes_is_a_wall_clock_budget_summed_over_resumes(tmp_path: Path) -> None:
    data = binary_data()  # 8 steps per epoch
    ample = TrainSettings(epochs=2, batch_size=32, progress=False, max_minutes=10)
    first = fit(tiny_vae(), ELBO(), data, data, ample, run_dir=tmp_path)
    assert [r["step"] for r in first.history] == [8, 16] and not first.stopped_early

    # Resumed with a budget the first two epochs already spent: one more step, then it stops.
    spent_minutes = sum(r["time_s"] for r in first.history) / 60
    exhausted = TrainSettings(epochs=4, batch_size=32, progress=False, max_minutes=spent_minutes)
    resumed = fit(tiny_vae(), ELBO(), data, data, exhausted, run_dir=tmp_path, resume=True)
    assert [r["step"] for r in resumed.history] == [8, 16, 17]
    assert resumed.stopped_early


def test_train_settings_take_every_train_config_field_by_name() -> None:
    from vaelab.config.run import RUN_ONLY_FIELDS, train_settings
    from vaelab.config.schema import TrainConfig

    settings_fields = {f.name for f in dataclasses.fields(TrainSettings)}
    assert set(TrainConfig.model_fields) - RUN_ONLY_FIELDS <= settings_fields  # none is dropped or renamed
    config = TrainConfig(epochs=3, lr=0.02, precision="bf16", max_steps=7, channels_last="off")
    settings = train_settings(config, progress=False)
    assert (settings.epochs, settings.lr, settings.precision, settings.max_steps) == (3, 0.02, "bf16", 7)
    assert settings.channels_last == "off" and settings.progress is False
