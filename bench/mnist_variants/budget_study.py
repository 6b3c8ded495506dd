"""Which recipe gives the best binarized-MNIST likelihood per CPU-minute: candidates trained side by side under
the same wall-clock budget, chosen on the validation split (the test split is not touched here).

Each candidate is one ``vaelab train`` on the 50,000 training images with ``train.max_minutes`` as its budget
and one torch thread (two candidates share the two cores at a time, so every one sees the same machine), a
constant learning rate (the length of a budgeted run is not known in advance, so no schedule is tuned to it)
and the best validation epoch kept. Then the importance-sampled NLL of its saved model on a seeded subset of
the validation images (``vaelab eval --split valid``). The winner is trained once more for the full budget
(``configs/mnist-best-60min.yaml``) and only that model meets the test split.

    .venv/bin/python bench/mnist_variants/budget_study.py --data-dir ../shared/data --minutes 12 --out /tmp/study
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

COMMON = (
    "--data binarized-mnist --network mlp --likelihood bernoulli --latent-dim 80 --kl-schedule linear "
    "--warmup-epochs 5 --epochs 100000 --set train.threads=1 --no-progress --no-report"
)
CANDIDATES = {
    "hvae-vamp 300x2, batch 128, lr 1e-3": "--model hvae-vamp --hidden-dims 300,300 --batch-size 128 --lr 1e-3",
    "hvae-vamp 500x2, batch 128, lr 1e-3": "--model hvae-vamp --hidden-dims 500,500 --batch-size 128 --lr 1e-3",
    "hvae-vamp 300x2, batch 256, lr 2e-3": "--model hvae-vamp --hidden-dims 300,300 --batch-size 256 --lr 2e-3",
    "hvae-vamp 300x2, IWAE K=5, batch 128, lr 1e-3": (
        "--model hvae-vamp --hidden-dims 300,300 --batch-size 128 --lr 1e-3 --set objective.name=iwae --num-samples 5"
    ),
}
"""Name -> the flags that make it: width, batch size and learning rate, and the IWAE bound, around the
hierarchical VampPrior VAE that was best at 30 epochs (results.md)."""


def run_pair(commands: list[list[str]], logs: list[Path]) -> None:
    """Run up to two commands at once (one thread each), waiting for both; a failure stops the study."""
    processes = [
        subprocess.Popen(c, stdout=log.open("w"), stderr=subprocess.STDOUT)
        for c, log in zip(commands, logs, strict=True)
    ]
    for process, log in zip(processes, logs, strict=True):
        if process.wait() != 0:
            sys.exit(f"failed; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--minutes", type=float, default=12.0, help="training budget of each candidate")
    parser.add_argument("--limit", type=int, default=2000, help="validation images scored by the NLL")
    parser.add_argument("--num-samples", type=int, default=1000, help="importance samples K of the NLL")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    vaelab = [sys.executable, "-m", "vaelab"]
    names = list(CANDIDATES)
    folders = {name: args.out / f"candidate{i}" for i, name in enumerate(names)}
    for i in range(0, len(names), 2):
        pair = names[i : i + 2]
        run_pair(
            [
                [
                    *vaelab,
                    "train",
                    *shlex.split(COMMON),
                    *shlex.split(CANDIDATES[name]),
                    "--data-dir",
                    args.data_dir,
                    "--set",
                    f"train.max_minutes={args.minutes}",
                    "--out",
                    str(folders[name]),
                ]
                for name in pair
            ],
            [args.out / f"{folders[name].name}-train.log" for name in pair],
        )
        run_pair(
            [
                [
                    *vaelab,
                    "eval",
                    str(folders[name]),
                    "--split",
                    "valid",
                    "--metrics",
                    "likelihood",
                    "--limit",
                    str(args.limit),
                    "--num-samples",
                    str(args.num_samples),
                    "--json",
                ]
                for name in pair
            ],
            [args.out / f"{folders[name].name}-eval.log" for name in pair],
        )
    print(f"budget {args.minutes:g} min each, one thread; validation NLL: K = {args.num_samples}, "
          f"{args.limit} seeded validation images\n")  # fmt: skip
    print("| candidate | epochs | best epoch | valid ELBO (best epoch) | valid NLL (nats) |")
    print("|---|---|---|---|---|")
    for name in names:
        records = [json.loads(line) for line in (folders[name] / "metrics.jsonl").read_text().splitlines()]
        best = max(records, key=lambda r: r["valid"]["elbo"])
        figures = json.loads((folders[name] / "eval-valid.json").read_text())
        print(
            f"| {name} | {len(records)} | {best['epoch']} | {best['valid']['elbo']:.2f} "
            f"| {figures['nll']:.2f} ± {figures['nll_stderr']:.2f} |"
        )


if __name__ == "__main__":
    main()
