"""Does training on incomplete rows cost more? VAEImputer's fit time with 50 % of cells missing against the same
rows complete, same settings and steps; median of the repeats, each fit alone in this process on one thread.

Tables: magic.gamma (5,000 x 10, ``tables.py``) and a synthetic 10,000 x 20 (rank-4 Gaussian plus noise); the
holes are ``patterns.py``'s mcar50, seed 0. The issue's bar: the ratio is at most 1.5.

    .venv/bin/python bench/imputation/train_time.py [--repeats 3] [--steps 4000]

``--steps`` sets the training budget of both fits (the default's 4,000 unless given): the time per step is what
the missing cells could change, so a shorter budget measures the same ratio sooner.

Run it alone on the machine: it measures time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from patterns import hidden_cells
from tables import load_table

from vaelab import VAEImputer


def synthetic(rows: int = 10_000, columns: int = 20) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(rows, 4)) @ rng.normal(size=(4, columns)) + 0.3 * rng.normal(size=(rows, columns))


def fit_seconds(x: np.ndarray, seed: int, steps: int) -> float:
    started = time.perf_counter()
    VAEImputer(random_state=seed, threads=1, steps=steps).fit(x)  # otherwise the defaults, the same either way
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tables = {"magic.gamma (5,000 x 10)": load_table("magic.gamma").x, "synthetic (10,000 x 20)": synthetic()}
    print("| table | complete: median s | 50 % missing: median s | ratio |")
    print("|---|---|---|---|")
    for name, x in tables.items():
        holes = np.where(hidden_cells(x, "mcar50", 0, name), np.nan, x)
        complete, incomplete = [], []
        for repeat in range(args.repeats):  # interleaved, so a slow spell of the machine hits both alike
            complete.append(fit_seconds(x, repeat, args.steps))
            incomplete.append(fit_seconds(holes, repeat, args.steps))
        a, b = float(np.median(complete)), float(np.median(incomplete))
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
