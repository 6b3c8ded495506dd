"""Two versions of vaelab side by side in one run: training samples/s and importance-sampling throughput.

Each version is a source tree (a checkout, e.g. a ``git worktree`` of an older commit). Its own
``bench/speed/worker.py`` times training epochs of the classic MLP and the conv VAE on binarized MNIST, and
``IS_WORKER``, run inside the tree's environment, times ``model.log_likelihood`` of the MLP model;
``CALLS_WORKER`` counts the Python calls of a training step, a figure the machine's noise does not move. The two
versions alternate within every round, so drift of the machine hits both alike; the table gives medians over
rounds and the ratio after / before.

    git worktree add ../vaelab-before <commit>
    .venv/bin/python bench/speed/before_after.py --before ../vaelab-before --after . --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_in(tree: Path, args: list[str]) -> dict[str, float]:
    """``python ARGS`` with ``tree``'s vaelab and speed workers first on the path; its last JSON line."""
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree / 'bench' / 'speed'}"}
    done = subprocess.run([sys.executable, *args], env=env, cwd=tree, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def training(tree: Path, network: str, batch_size: int, args: argparse.Namespace) -> float:
    worker = str(tree / "bench" / "speed" / "worker.py")
    options = ["--trainer", "vaelab", "--network", network, "--batch-size", str(batch_size)]
    sizes = ["--examples", str(args.examples), "--repeats", str(args.repeats), "--data-dir", args.data_dir]
    return run_in(tree, [worker, *options, *sizes])["samples_per_s"]


IS_WORKER = """
import json, statistics, sys, time
import torch
from worker import vaelab_model  # the tree's own bench/speed/worker.py, first on PYTHONPATH
from vaelab.data.registry import load_dataset
data_dir, examples, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
model = vaelab_model("mlp").eval()
x = torch.from_numpy(load_dataset("binarized-mnist", "test", data_dir).x[:examples]).float()
model.log_likelihood(x, num_samples=100)  # warm-up
seconds = []
for _ in range(3):
    started = time.perf_counter()
    model.log_likelihood(x, num_samples=samples)
    seconds.append(time.perf_counter() - started)
print(json.dumps({"rows_per_s": len(x) * samples / statistics.median(seconds)}))
"""
"""Run inside one tree's environment: rows (examples x samples) per second of the IS estimate, median of 3."""


CALLS_WORKER = """
import cProfile, json, pstats, sys
import numpy as np
import torch
from worker import vaelab_model
from vaelab.data.registry import load_dataset
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit
data_dir, steps = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
model = vaelab_model("mlp")
data = load_dataset("binarized-mnist", "train", data_dir).subset(np.arange(128 * steps))
settings = TrainSettings(epochs=1, batch_size=128, progress=False)
profile = cProfile.Profile()
profile.runcall(fit, model, ELBO(), data, None, settings)
print(json.dumps({"calls_per_step": pstats.Stats(profile).total_calls / steps}))
"""
"""Run inside one tree's environment: Python function calls per training step of the classic MLP, counted by
cProfile over one epoch (set-up included, spread over the steps). A count, so one run gives it exactly."""


def python_calls(tree: Path, args: argparse.Namespace) -> float:
    return run_in(tree, ["-c", CALLS_WORKER, args.data_dir, "300"])["calls_per_step"]


def importance_sampling(tree: Path, args: argparse.Namespace) -> float:
    rates = run_in(tree, ["-c", IS_WORKER, args.data_dir, str(args.eval_examples), str(args.eval_samples)])
    return rates["rows_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="source tree of the first version")
    parser.add_argument("--after", type=Path, help="source tree of the second version")
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared" / "data"))
    parser.add_argument("--configs", default="mlp:128,mlp:1024,conv:128", help="network:batch pairs to train")
    parser.add_argument("--examples", type=int, default=25_600, help="training examples per timed epoch")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per worker process (median)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running both versions once")
    parser.add_argument("--eval-examples", type=int, default=200)
    parser.add_argument("--eval-samples", type=int, default=1000)
    args = parser.parse_args()
    args.data_dir = str(Path(args.data_dir).resolve())  # the workers run inside each tree
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    configs = [(network, int(batch)) for network, batch in (item.split(":") for item in args.configs.split(","))]
    rows: dict[str, dict[str, list[float]]] = {f"{n} b{b}": {"before": [], "after": []} for n, b in configs}
    rows["IS estimate (rows/s)"] = {"before": [], "after": []}
    for round_ in range(args.rounds):
        order = list(trees.items()) if round_ % 2 == 0 else list(trees.items())[::-1]
        for version, tree in order:
            for network, batch in configs:
                rows[f"{network} b{batch}"][version].append(training(tree, network, batch, args))
            rows["IS estimate (rows/s)"][version].append(importance_sampling(tree, args))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    print(f"before: {trees['before']}\nafter: {trees['after']}\n")
    calls = {version: python_calls(tree, args) for version, tree in trees.items()}
    print(
        f"Python calls per training step (MLP, batch 128, 300 steps): before {calls['before']:.1f}, "
        f"after {calls['after']:.1f}\n"
    )
    print("| measure | before (median) | after (median) | after / before | rounds before | rounds after |")
    print("|---|---|---|---|---|---|")
    for name, values in rows.items():
        before, after = statistics.median(values["before"]), statistics.median(values["after"])
        rounds = [", ".join(f"{v:,.0f}" for v in values[version]) for version in ("before", "after")]
        print(f"| {name} | {before:,.0f} | {after:,.0f} | {after / before:.3f} | {rounds[0]} | {rounds[1]} |")


if __name__ == "__main__":
    main()
