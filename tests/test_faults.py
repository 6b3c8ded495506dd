"""Processes that race for one run directory, and processes killed (``kill -9``) at any moment.

Each training is a real ``vaelab train`` process forked from a server that imported vaelab once
(``multiprocessing``'s forkserver), so a process costs a fork rather than a fresh interpreter. The default
suite runs 3 races and 3 kills; ``pytest -m slow tests/test_faults.py`` runs 50 races and 20 kills.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from vaelab import load
from vaelab.training.checkpoint import CHECKPOINT_NAME

TRAIN = ["train", "--hidden-dims", "256", "--latent-dim", "4", "--no-progress", "--no-report"]
EPOCHS = 3


def _vaelab(args: list[str], log: str) -> None:
    """The body of a forked process: ``vaelab ARGS`` with stdout and stderr into ``log``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    torch.set_num_threads(1)
    sys.argv = ["vaelab", *args]
    from vaelab.cli.main import main

    main()


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServerContext]:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["vaelab.cli.main", "torch._dynamo"])  # Adam imports torch._dynamo: 3 s
    yield context


def start(forks: ForkServerContext, args: list[str], log: Path) -> multiprocessing.process.BaseProcess:
    process = forks.Process(target=_vaelab, args=(args, str(log)))
    process.start()
    return process


def finish(process: multiprocessing.process.BaseProcess, timeout: float = 120) -> int:
    process.join(timeout)
    assert process.exitcode is not None, "a training process hung"
    return process.exitcode


# ------------------------------------------------------------------------------------------------ races


def race(forks: ForkServerContext, folder: Path) -> str:
    """Two trainings with different latent sizes into one directory: exactly one runs and the directory
    holds that one's config, weights and checkpoint, which ``--resume`` continues."""
    run = folder / "run"
    processes = [
        start(
            forks, [*TRAIN, "--epochs", "2", "--latent-dim", str(latent), "--out", str(run)], folder / f"{latent}.log"
        )
        for latent in (2, 3)
    ]
    codes = [finish(p) for p in processes]
    assert sorted(codes) == [0, 1], codes
    winner = (2, 3)[codes.index(0)]
    refusal = (folder / f"{(2, 3)[codes.index(1)]}.log").read_text()
    assert refusal.count("\n") == 1 and ("another vaelab process" in refusal or "already holds a run" in refusal)
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["latent_dim"] == winner
    assert load(run).latent_dim == winner
    resumed = start(
        forks, [*TRAIN, "--epochs", "3", "--latent-dim", str(winner), "--out", str(run), "--resume"], folder / "r.log"
    )
    assert finish(resumed) == 0, (folder / "r.log").read_text()
    return "while it ran" if "another vaelab process" in refusal else "after it ended"


@pytest.mark.parametrize("trial", range(3))
def test_two_trainings_into_one_directory_one_runs(trial: int, forks: ForkServerContext, tmp_path: Path) -> None:
    race(forks, tmp_path)


@pytest.mark.slow
def test_fifty_races_one_runs_every_time(forks: ForkServerContext, tmp_path: Path) -> None:
    refused: dict[str, int] = {}
    for trial in range(50):
        (tmp_path / str(trial)).mkdir()
        when = race(forks, tmp_path / str(trial))
        refused[when] = refused.get(when, 0) + 1
    print(f"50 races, the second training refused: {refused}")


# ------------------------------------------------------------------------------------------------ kills


def straight_run(forks: ForkServerContext, folder: Path) -> tuple[dict[str, torch.Tensor], float]:
    """An uninterrupted run's weights and how long it took."""
    started = time.perf_counter()
    assert (
        finish(start(forks, [*TRAIN, "--epochs", str(EPOCHS), "--out", str(folder / "straight")], folder / "s.log"))
        == 0
    )
    return load_file(folder / "straight" / "model.safetensors"), time.perf_counter() - started


def kill_when(process: multiprocessing.process.BaseProcess, moment: float | None, watch: Path | None) -> bool:
    """Kill ``process`` with SIGKILL after ``moment`` seconds, or as soon as a file matching ``watch`` exists;
    False when it ended first."""
    started = time.perf_counter()
    while process.is_alive():
        due = moment is not None and time.perf_counter() - started >= moment
        seen = watch is not None and any(watch.parent.glob(watch.name))
        if due or seen:
            os.kill(process.pid, signal.SIGKILL)  # type: ignore[arg-type]
            process.join()
            return True
        time.sleep(0.0005)
    return False


def kill_and_recover(
    forks: ForkServerContext, folder: Path, moment: float | None, watch: str | None, reference: dict[str, torch.Tensor]
) -> str:
    """Kill a run at ``moment`` (or when ``watch`` appears in its directory), then rerun it (``--resume`` when
    it holds a config): it completes with the uninterrupted run's weights, bit for bit."""
    run = folder / "run"
    args = [*TRAIN, "--epochs", str(EPOCHS), "--out", str(run)]
    killed = kill_when(start(forks, args, folder / "k.log"), moment, None if watch is None else run / watch)
    assert killed or moment is not None, f"the run ended before {watch} appeared"
    when = (
        "after it ended"
        if not killed
        else "during a checkpoint write"
        if list(run.glob(f".{CHECKPOINT_NAME}.*.tmp"))
        else "between checkpoints"
        if (run / CHECKPOINT_NAME).exists()
        else "before the first checkpoint"
    )
    again = [*args, "--resume"] if (run / "config.yaml").is_file() else args
    assert finish(start(forks, again, folder / "again.log")) == 0, (folder / "again.log").read_text()
    weights = load_file(run / "model.safetensors")
    assert weights.keys() == reference.keys()
    assert all(torch.equal(weights[k], reference[k]) for k in reference)
    assert not list(run.glob(".*.tmp")) and not (run / ".vaelab.lock").exists()
    return when


KILLS = {
    "before-the-first-checkpoint": (None, "config.yaml"),
    "during-a-checkpoint-write": (None, f".{CHECKPOINT_NAME}.*.tmp"),
    "at-a-random-moment": ("random", None),
}


def test_killed_runs_rerun_to_the_same_weights(forks: ForkServerContext, tmp_path: Path) -> None:
    reference, duration = straight_run(forks, tmp_path)
    rng = random.Random(0)
    for name, (moment, watch) in KILLS.items():
        (tmp_path / name).mkdir()
        when = kill_and_recover(forks, tmp_path / name, rng.uniform(0, duration) if moment else None, watch, reference)
        assert moment or when == name.replace("-", " "), when  # the kill landed where it was aimed


@pytest.mark.slow
def test_twenty_kills_at_random_moments_rerun_to_the_same_weights(forks: ForkServerContext, tmp_path: Path) -> None:
    reference, duration = straight_run(forks, tmp_path)
    rng = random.Random(1)
    killed: dict[str, int] = {}
    for trial in range(20):
        (tmp_path / str(trial)).mkdir()
        when = kill_and_recover(forks, tmp_path / str(trial), rng.uniform(0, duration), None, reference)
        killed[when] = killed.get(when, 0) + 1
    print(f"20 kills, each rerun to the uninterrupted weights; killed: {killed}")
