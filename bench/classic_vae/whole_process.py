"""Whole-process timing: `vaelab train` of the classic model against the PyTorch example program and a
pythae program, each launched as its own process and timed from launch to exit.

All three train the 784-400-20 Bernoulli VAE on binarized MNIST (50,000 train rows, Adam 1e-3, batch 128):
- vaelab: ``vaelab train --config configs/mnist-classic.yaml --data-dir D --out DIR --no-progress`` (plus
  ``--epochs`` and ``--seed``), the README's command with its report left on;
- example: ``example_script.py``, pytorch/examples vae/main.py as a program (test pass and images each epoch);
- pythae: ``pythae_script.py`` under pythae's own Python (its TrainingPipeline, eval on the valid rows);
- with ``--settings``, also vaelab with the config's two speed settings undone, one at a time, to measure
  each: ``train.matmul_precision=highest`` (float32 products) and ``train.flush_subnormals=false``.
Each repeat (seed = repeat number) runs the three one after another, the order rotated each repeat, so every
trainer takes every place once in three repeats. After all runs each trained model's test NLL is computed
by the same code (importance-sampled, the same random test subset; vaelab's ``evaluate_likelihood``).
Training seconds: vaelab's ``train_time_s`` (metrics.jsonl, training steps only), the scripts' ``timing.json``.

    .venv/bin/python bench/classic_vae/whole_process.py --data-dir ../shared/data --pythae-python PYTHON

where PYTHON is the interpreter of pythae's environment (requirements-pythae.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from reference import as_vaelab_model, load_weights

import vaelab
from vaelab.data.registry import load_dataset
from vaelab.evaluation.likelihood import evaluate_likelihood

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONFIG = REPO / "configs" / "mnist-classic.yaml"
BAR = 1.3


def run_arguments(data_dir: str, epochs: int, seed: int, out: Path) -> list[str]:
    """The arguments every trainer of the benchmark takes: --data-dir --epochs --seed --out."""
    return ["--data-dir", data_dir, "--epochs", str(epochs), "--seed", str(seed), "--out", str(out)]


def vaelab_command(data_dir: str, epochs: int, seed: int, out: Path) -> list[str]:
    """The README's ``vaelab train`` of the classic model, report included."""
    command = [sys.executable, "-m", "vaelab", "train", "--config", str(CONFIG)]
    return [*command, *run_arguments(data_dir, epochs, seed, out), "--no-progress"]


def vaelab_with(setting: str) -> Callable[[str, int, int, Path], list[str]]:
    """The same command with one more ``--set`` assignment."""

    def command(data_dir: str, epochs: int, seed: int, out: Path) -> list[str]:
        return [*vaelab_command(data_dir, epochs, seed, out), "--set", setting]

    return command


SETTING_VARIANTS = {
    "vaelab, float32 products": "train.matmul_precision=highest",
    "vaelab, subnormals kept": "train.flush_subnormals=false",
}


def vaelab_train_seconds(out: Path) -> float:
    return sum(json.loads(line)["train_time_s"] for line in (out / "metrics.jsonl").read_text().splitlines())


def script_train_seconds(out: Path) -> float:
    return float(json.loads((out / "timing.json").read_text())["train_s"])


def script_model(out: Path) -> vaelab.VAE:
    return as_vaelab_model(load_weights(out / "weights.npz"))


@dataclass
class Run:
    out: Path
    wall_s: float
    train_s: float
    nll: float = float("nan")


@dataclass(frozen=True)
class Trainer:
    name: str
    command: Callable[[str, int, int, Path], list[str]]
    train_seconds: Callable[[Path], float]
    model: Callable[[Path], vaelab.VAE]
    compared: bool = True  # whether the bar applies to its time over vaelab's


def script(python: str, name: str) -> Callable[[str, int, int, Path], list[str]]:
    """The command line of one of the benchmark's scripts, which all take --data-dir --epochs --seed --out."""

    def command(data_dir: str, epochs: int, seed: int, out: Path) -> list[str]:
        return [python, str(HERE / name), *run_arguments(data_dir, epochs, seed, out)]

    return command


def run_timed(command: list[str], log: Path) -> float:
    """Run ``command`` (output to ``log``); its wall seconds from launch to exit."""
    with log.open("wb") as sink:
        started = time.perf_counter()
        completed = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
    if completed.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} exited with {completed.returncode}; the end of its output:\n{tail}")
    return wall


def test_nll(model: vaelab.VAE, data_dir: str, limit: int, num_samples: int) -> float:
    """Importance-sampled test NLL (nats), ``num_samples`` samples, on a fixed random ``limit``-row subset
    of the binarized-MNIST test split (its rows are sorted by digit, so never the first rows)."""
    test = load_dataset("binarized-mnist", "test", data_dir)
    index = np.sort(np.random.default_rng(0).choice(len(test), size=limit, replace=False))
    torch.manual_seed(0)
    return evaluate_likelihood(model, test.subset(index), num_samples)["nll"]


def pythae_versions(python: str) -> str:
    code = "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in ('pythae', 'torch')))"
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def time_runs(trainers: list[Trainer], args: argparse.Namespace, tmp: Path) -> dict[str, list[Run]]:
    """Every trainer once per repeat (seed = repeat), the order rotated each repeat; then each model's NLL."""
    runs: dict[str, list[Run]] = {trainer.name: [] for trainer in trainers}
    for repeat in range(args.repeats):
        shift = repeat % len(trainers)
        for trainer in trainers[shift:] + trainers[:shift]:
            out = tmp / f"{trainer.name}-{repeat}"
            wall = run_timed(trainer.command(args.data_dir, args.epochs, repeat, out), tmp / f"{out.name}.log")
            runs[trainer.name].append(Run(out, wall, trainer.train_seconds(out)))
            print(f"repeat {repeat} {trainer.name}: {wall:.1f} s", file=sys.stderr, flush=True)
    for trainer in trainers:
        for run in runs[trainer.name]:
            run.nll = test_nll(trainer.model(run.out), args.data_dir, args.limit, args.num_samples)
    return runs


def print_table(runs: dict[str, list[Run]], samples: int, compared: set[str]) -> None:
    """The markdown table (medians, and each run), then each other trainer's median time over vaelab's."""
    print("| trainer | whole-process s (median) | per-run s | training s | training samples/s | test NLL (per run) |")
    print("|---|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for name, rows in runs.items():
        medians[name] = statistics.median(r.wall_s for r in rows)
        train_s = statistics.median(r.train_s for r in rows)
        nll = statistics.median(r.nll for r in rows)
        print(
            f"| {name} | {medians[name]:.1f} | {', '.join(f'{r.wall_s:.1f}' for r in rows)} | {train_s:.1f} "
            f"| {samples / train_s:,.0f} | {nll:.2f} ({', '.join(f'{r.nll:.2f}' for r in rows)}) |"
        )
    print()
    for name, median in medians.items():
        if name != "vaelab":
            ratio = median / medians["vaelab"]
            verdict = f" ({'meets' if ratio >= BAR else 'below'} the {BAR}x bar)" if name in compared else ""
            print(f"{name} / vaelab, median whole-process time: {ratio:.2f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--pythae-python", default="/work/bench-envs/pythae/bin/python", help="its interpreter (%(default)s)"
    )
    parser.add_argument("--skip-pythae", action="store_true")
    parser.add_argument("--settings", action="store_true", help="also time vaelab with each speed setting undone")
    parser.add_argument("--limit", type=int, default=2000, help="test rows for the NLL")
    parser.add_argument("--num-samples", type=int, default=1000, help="importance samples K for the NLL")
    args = parser.parse_args()

    trainers = [
        Trainer("vaelab", vaelab_command, vaelab_train_seconds, vaelab.load),
        Trainer("example", script(sys.executable, "example_script.py"), script_train_seconds, script_model),
    ]
    if not args.skip_pythae:
        trainer = Trainer("pythae", script(args.pythae_python, "pythae_script.py"), script_train_seconds, script_model)
        trainers.append(trainer)
    if args.settings:
        for name, setting in SETTING_VARIANTS.items():
            trainers.append(Trainer(name, vaelab_with(setting), vaelab_train_seconds, vaelab.load, compared=False))
    with tempfile.TemporaryDirectory() as tmp:
        runs = time_runs(trainers, args, Path(tmp))

    n_train = len(load_dataset("binarized-mnist", "train", args.data_dir))
    print(
        f"\nclassic 784-400-20 Bernoulli VAE, binarized MNIST ({n_train} train), {args.epochs} epochs, batch 128, "
        f"Adam 1e-3; {args.repeats} runs each (seeds 0-{args.repeats - 1}), order rotated; "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}"
        + ("" if args.skip_pythae else f"; pythae env: {pythae_versions(args.pythae_python)}")
    )
    print("whole-process s: launch to exit (subprocess wall time); training s: training steps only")
    print(f"test NLL: importance-sampled, K = {args.num_samples}, random {args.limit}-example test subset\n")
    print_table(runs, n_train * args.epochs, {trainer.name for trainer in trainers if trainer.compared})


if __name__ == "__main__":
    main()
