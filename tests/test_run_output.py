"""What a run prints: the opening line with what ``auto`` chose, lines (not a bar) when stderr is no terminal,
a line every ``LINE_SECONDS`` in a long epoch, the note on densities, ``--verbose`` after the command, and
help texts whose on/off flags carry no metavar."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import tiny_vae
from vaelab.cli.main import verbose_first
from vaelab.data.dataset import ArrayDataset
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit, trainer


def vaelab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaelab", *args], capture_output=True, text=True)


def test_a_run_without_a_terminal_prints_one_line_per_epoch_and_says_what_auto_chose(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = vaelab(
        "train", "--epochs", "3", "--hidden-dims", "16", "--latent-dim", "2", "--out", str(run), "--no-report"
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr  # the bar stays off when stderr is captured, though --progress is on
    opening, *lines = done.stderr.splitlines()
    assert opening.startswith("training vae on digits (1437 train, 180 valid): ")
    assert "likelihood continuous-bernoulli (auto: 17 levels scaled to [0, 1])" in opening
    assert "network mlp (auto: images under 32 pixels a side)" in opening and "epochs 3," not in opening
    assert [line.split(":")[0] for line in lines[:3]] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert any(line.startswith("note: a bound above 0 nats (a negative NLL) is expected") for line in lines)
    assert "--likelihood logistic" in done.stderr


def test_tensorboard_flag_writes_event_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    quick = ("train", "--epochs", "1", "--hidden-dims", "16", "--latent-dim", "2", "--no-report")
    plain = vaelab(*quick, "--out", str(run))
    done = vaelab(*quick, "--out", str(tmp_path / "tb"), "--tensorboard")
    assert plain.returncode == 0 and done.returncode == 0, plain.stderr + done.stderr
    assert list((tmp_path / "tb" / "tensorboard").glob("events.out.tfevents.*"))
    assert not (run / "tensorboard").exists()


def test_a_long_epoch_gets_a_line_every_line_seconds(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(trainer, "LINE_SECONDS", 0.0)
    data = ArrayDataset(np.random.default_rng(0).integers(0, 2, (64, 1, 4, 4)).astype(np.uint8), None, 2, "tiny")
    torch.manual_seed(0)
    fit(tiny_vae(), ELBO(), data, None, TrainSettings(epochs=1, batch_size=8, log_every=2, progress=True))
    err = capsys.readouterr().err
    assert re.findall(r"^epoch 1/1 step (\d+)/8: loss", err, re.MULTILINE) == ["2", "4", "6", "8"]  # each log sync
    assert "\r" not in err and err.rstrip().splitlines()[-1].startswith("epoch 1/1: loss")


def test_verbose_is_taken_before_or_after_the_command(tmp_path: Path) -> None:
    assert verbose_first(["train", "--verbose", "--out", "x"]) == ["--verbose", "train", "--out", "x"]
    assert verbose_first(["eval", "run", "--", "-v"]) == ["eval", "run", "--", "-v"]  # after --: an argument
    missing = str(tmp_path / "missing.csv")
    quiet, loud = vaelab("train", "--data", missing), vaelab("train", "--data", missing, "--verbose")
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and quiet.stderr.count("\n") == 1
    assert "Traceback" in loud.stderr and loud.stderr.rstrip().splitlines()[-1] == quiet.stderr.strip()


def test_on_off_flags_show_no_metavar_in_help() -> None:
    shown = vaelab("train", "--help").stdout
    assert "--report / --no-report" in shown and "--tensorboard" in shown
    assert "<bool>" not in shown and "BOOLEAN" not in shown
