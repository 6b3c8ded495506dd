"""Two-process training with torchrun + DistributedDataParallel on the gloo backend (CPU)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vaelab

ARGS = [
    "--epochs",
    "4",
    "--batch-size",
    "64",
    "--hidden-dims",
    "64",
    "--latent-dim",
    "4",
    "--no-progress",
    "--no-report",
]


def env() -> dict[str, str]:
    """One thread per process; faulthandler, so a process that aborts (SIGABRT) prints its Python stack into
    the failure message."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}


def torchrun(processes: int = 2) -> list[str]:
    """The command that starts ``processes`` local processes of what follows it (a script, or -m module)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)]


def train(out: Path, *extra: str, processes: int = 1) -> subprocess.CompletedProcess[str]:
    launcher = [*(torchrun(processes) if processes > 1 else [sys.executable]), "-m", "vaelab"]
    return subprocess.run(
        [*launcher, "train", *ARGS, "--out", str(out), *extra], capture_output=True, text=True, env=env(), timeout=300
    )


def valid_elbo(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return max(r["valid"]["elbo"] for r in records)


@pytest.mark.slow  # about 30 s on 2 cores; DDP stays in the default suite through the other tests here
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    single = [tmp_path / f"single{seed}" for seed in (0, 1)]
    for seed, out in enumerate(single):
        done = train(out, "--seed", str(seed))
        assert done.returncode == 0, done.stderr
    double = tmp_path / "double"
    done = train(double, "--seed", "0", processes=2)
    assert done.returncode == 0, done.stderr

    records = [json.loads(line) for line in (double / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]  # one writer: rank 0
    model = vaelab.load(double)  # the checkpointed weights load like any run's
    assert model.latent_dim == 4
    # Same global batch (64 = 2 x 32): the two-process result is within the seed-to-seed spread.
    seed_spread = abs(valid_elbo(single[0]) - valid_elbo(single[1]))
    assert abs(valid_elbo(double) - valid_elbo(single[0])) <= max(3 * seed_spread, 1.5)

    resumed = train(double, "--resume", "--epochs", "5", processes=2)
    assert resumed.returncode == 0, resumed.stderr
    assert len((double / "metrics.jsonl").read_text().splitlines()) == 5


@pytest.mark.parametrize("flag", ["--resume"])
def test_resume_needs_an_existing_run_under_torchrun(tmp_path: Path, flag: str) -> None:
    done = train(tmp_path / "none", flag, processes=2)
    assert done.returncode != 0
    assert "--resume needs --out" in done.stderr


def test_a_time_cosine_is_refused_under_torchrun(tmp_path: Path) -> None:
    schedule = ["--set", "train.lr_schedule=cosine-time", "--set", "train.max_minutes=1"]
    done = train(tmp_path / "run", *schedule, processes=2)
    assert done.returncode != 0
    assert "error: lr_schedule 'cosine-time' reads each process's own clock: use 'cosine' under torchrun" in done.stderr
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


@pytest.mark.slow  # about 20 s per model on 2 cores
@pytest.mark.parametrize("model", ["factor-vae", "aae"])
def test_objectives_with_a_discriminator_train_and_resume_in_two_gloo_processes(tmp_path: Path, model: str) -> None:
    out = tmp_path / model
    done = train(out, "--model", model, "--epochs", "2", processes=2)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train"]["discriminator_loss"] for r in records]
    # A binary classifier at chance has loss log 2; it stays finite and near or below that as it learns.
    assert all(0 < loss < 2 * math.log(2) for loss in losses), losses
    assert vaelab.load(out).latent_dim == 4

    resumed = train(out, "--model", model, "--resume", "--epochs", "3", processes=2)
    assert resumed.returncode == 0, resumed.stderr
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


SYNC_CHECK = """
import torch, torch.distributed as dist
from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.digits import load_digits
from vaelab.training import TrainSettings, fit

torch.set_num_threads(1)
train = load_digits("train")
model = build_model(model_spec(ModelConfig(preset="factor-vae", hidden_dims=[32], latent_dim=3), train))
objective = build_objective(ObjectiveConfig(discriminator_hidden=[16]), "factor-vae")
result = fit(model, objective, train, None, TrainSettings(epochs=1, batch_size=64, progress=False))
flat = torch.cat([p.detach().flatten() for p in result.objective.discriminator.parameters()])
lowest, highest = flat.clone(), flat.clone()
dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
dist.all_reduce(highest, op=dist.ReduceOp.MAX)
if dist.get_rank() == 0:
    print("spread", (highest - lowest).abs().max().item())
"""


def test_the_discriminator_stays_identical_across_processes(tmp_path: Path) -> None:
    """Each process trains the discriminator on its own slice, so without averaged gradients the copies
    would drift apart after the first step."""
    script = tmp_path / "check.py"
    script.write_text(SYNC_CHECK)
    command = [*torchrun(), str(script)]
    done = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=300)
    assert done.returncode == 0, done.stderr
    spread = float(done.stdout.split("spread")[1])
    assert spread == 0.0


LEAVE_GROUP = """
import atexit, os, sys, torch
from vaelab.training.distributed import setup

def record_threads():
    threads = [open(f"/proc/self/task/{task}/comm").read().strip() for task in os.listdir("/proc/self/task")]
    open(os.path.join(sys.argv[1], os.environ["RANK"]), "w").write(" ".join(threads))

if sys.argv[2] == "exit":
    atexit.register(record_threads)  # registered before setup(), so it runs after vaelab's exit handler
processes, device = setup("cpu")
model = processes.wrap(torch.nn.Linear(3, 2), device)
model(torch.randn(4, 3)).sum().backward()
del model
if sys.argv[2] == "close":
    processes.close()
    record_threads()
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists threads through Linux's /proc")
@pytest.mark.parametrize("leave", ["close", "exit"])
def test_leaving_the_group_joins_gloo_threads(tmp_path: Path, leave: str) -> None:
    """No gloo thread is left running after close(), nor at exit when a program (such as ``fit`` alone)
    never closes the group: gloo threads running into interpreter shutdown made a process abort after a
    complete run, in CI and here under load."""
    script = tmp_path / "leave_group.py"
    script.write_text(LEAVE_GROUP)
    threads = tmp_path / "threads"
    threads.mkdir()
    command = [*torchrun(), str(script), str(threads), leave]
    done = subprocess.run(command, capture_output=True, text=True, env=env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in threads.iterdir()) == ["0", "1"]  # one file per rank
    for path in threads.iterdir():
        names = path.read_text().split()
        assert not [name for name in names if "gloo" in name], f"rank {path.name} still runs {names}"
