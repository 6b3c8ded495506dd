"""Choosing the detector's defaults by leave-tables-out over the 29 ADBench tables (issue 25).

For every table, seed and candidate setting: a stratified 60/40 split (test parts of more than
``--max-test`` rows subsampled, stratified), the columns standardised on the train part, then
- IsolationForest (scikit-learn defaults, seeded) fitted on the whole train part;
- vaelab's ``VAEDetector`` with the candidate's settings, fitted on at most ``--max-train`` train rows
  (a seeded random subsample of larger train parts), for about ``steps`` optimisation steps;
each scored on the test part: ROC-AUC, average precision, and fit + score seconds. One fit gives the
figures of several scores (the default, w = 16, and the rate weights ``RATE_WEIGHTS``, of which w = 1 is the
ELBO), since the score does not change training. Each result is one JSON line in ``--out``; a run skips what
the file already holds, so it resumes.

``--summary`` then reads the file: the mean over tables of each (setting, score), and the leave-tables-out
figure: the tables in ``FOLDS`` folds (a fixed permutation), each fold's tables scored with the candidate that
has the best mean ROC-AUC on the other folds' tables; next to it the in-sample best, IsolationForest's mean,
and the median ratio of fit + score times.

    .venv/bin/python bench/anomaly/leave_tables_out.py --data-dir ../shared/data --seeds 0 1 --out lto.jsonl
    .venv/bin/python bench/anomaly/leave_tables_out.py --summary --out lto.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from vaelab import VAEDetector

TEST_SIZE = 0.4
FOLDS = 5
RATE_WEIGHTS = (1.0, 4.0)
"""Rate weights scored besides the default (w = 16 for tables); w = 1 is the ELBO."""
SAME_AS = {"w=16": "default", "elbo": "w=1"}
"""Scores earlier runs of this file also recorded, equal by definition to the one named: left out of the summary."""
CANDIDATES: dict[str, dict[str, Any]] = {
    "steps1000-b256-lr3e-3": {"steps": 1000, "batch_size": 256, "lr": 3e-3},
    "steps2000-b256-lr3e-3": {"steps": 2000, "batch_size": 256, "lr": 3e-3},
    "steps500-b256-lr1e-2": {"steps": 500, "batch_size": 256, "lr": 1e-2},
    "steps250-b512-lr1e-2": {"steps": 250, "batch_size": 512, "lr": 1e-2},
    "steps500-b512-lr1e-2": {"steps": 500, "batch_size": 512, "lr": 1e-2},
    "steps500-b256-lr1e-2-unit": {"steps": 500, "batch_size": 256, "lr": 1e-2, "likelihood": "gaussian-unit"},
    "steps500-b256-lr1e-2-standard": {"steps": 500, "batch_size": 256, "lr": 1e-2, "scaling": "standard"},
    "steps1000-b256-lr1e-2-unit": {"steps": 1000, "batch_size": 256, "lr": 1e-2, "likelihood": "gaussian-unit"},
}
"""Candidate settings: the optimisation steps (turned into epochs for the train part's size) and the
detector's own parameters."""


def load_table(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as data:
        return data["X"].astype(np.float64), data["y"].astype(int)


def split(x: np.ndarray, y: np.ndarray, seed: int, max_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised (train, test, test labels); a test part above ``max_test`` rows subsampled, stratified."""
    train, test, _, y_test = train_test_split(x, y, test_size=TEST_SIZE, stratify=y, random_state=seed)
    if len(test) > max_test:
        test, _, y_test, _ = train_test_split(test, y_test, train_size=max_test, stratify=y_test, random_state=seed)
    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test), y_test


def figures(y: np.ndarray, anomaly_scores: np.ndarray) -> dict[str, float]:
    return {"roc_auc": float(roc_auc_score(y, anomaly_scores)), "ap": float(average_precision_score(y, anomaly_scores))}


def isolation_forest(train: np.ndarray, test: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    forest = IsolationForest(random_state=seed).fit(train)
    scores = -forest.score_samples(test)
    return {"seconds": time.perf_counter() - started, "scores": {"default": figures(y, scores)}}


def vae_detector(
    train: np.ndarray, test: np.ndarray, y: np.ndarray, seed: int, setting: dict[str, Any], max_train: int
) -> dict[str, Any]:
    started = time.perf_counter()
    if len(train) > max_train:
        train = train[np.random.default_rng(seed).choice(len(train), size=max_train, replace=False)]
    options = {key: value for key, value in setting.items() if key != "steps"}
    steps_per_epoch = math.ceil(len(train) / options["batch_size"])
    epochs = max(1, math.ceil(setting["steps"] / steps_per_epoch))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # posterior-collapse warnings: the figures say how it ranks
        detector = VAEDetector(random_state=seed, epochs=epochs, **options).fit(train)
        default = -detector.score_samples(test)
    seconds = time.perf_counter() - started
    scores = {"default": figures(y, default)}
    for weight in RATE_WEIGHTS:
        detector.set_params(rate_weight=weight)
        scores[f"w={weight:g}"] = figures(y, -detector.score_samples(test))
    return {"seconds": seconds, "train_rows": len(train), "epochs": epochs, "scores": scores}


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    done = set()
    if args.out.is_file():
        done = {(r["table"], r["seed"], r["method"]) for r in map(json.loads, args.out.read_text().splitlines())}
    tables = sorted(args.data_dir.joinpath("adbench").glob("*.npz"), key=lambda p: int(p.name.split("_")[0]))
    chosen = args.candidates or list(CANDIDATES)
    for path in tables:
        x, y = load_table(path)
        for seed in args.seeds:
            train, test, y_test = split(x, y, seed, args.max_test)
            for method in ["IsolationForest", *chosen]:
                if (path.stem, seed, method) in done:
                    continue
                result = (
                    isolation_forest(train, test, y_test, seed)
                    if method == "IsolationForest"
                    else vae_detector(train, test, y_test, seed, CANDIDATES[method], args.max_train)
                )
                record = {"table": path.stem, "seed": seed, "method": method, **result}
                with args.out.open("a") as out:
                    out.write(json.dumps(record) + "\n")
                auc = record["scores"]["default"]["roc_auc"]
                print(f"{path.stem} seed {seed} {method}: ROC-AUC {auc:.3f} in {record['seconds']:.1f} s", flush=True)


def summary(args: argparse.Namespace) -> None:
    records = [json.loads(line) for line in args.out.read_text().splitlines()]
    by_key: dict[tuple[str, str], dict[str, list[dict[str, float]]]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        for score, values in r["scores"].items():
            if score not in SAME_AS:
                by_key[(r["method"], score)][r["table"]].append(values)
        seconds[r["method"]][r["table"]].append(r["seconds"])
    forest = by_key[("IsolationForest", "default")]
    tables = sorted(forest)
    complete = {key: v for key, v in by_key.items() if key[0] != "IsolationForest" and set(v) >= set(tables)}

    def table_mean(values: dict[str, list[dict[str, float]]], table: str, figure: str) -> float:
        return float(np.mean([v[figure] for v in values[table]]))

    def mean(values: dict[str, list[dict[str, float]]], names: list[str], figure: str = "roc_auc") -> float:
        return float(np.mean([table_mean(values, t, figure) for t in names]))

    print(f"{len(tables)} tables, seeds per table: {sorted({len(v) for v in forest.values()})}")
    print("| setting | score | mean ROC-AUC | mean AP | tables within IF - 0.10 |")
    print("|---|---|---|---|---|")
    for (method, score), values in sorted(complete.items(), key=lambda kv: -mean(kv[1], tables)):
        near = sum(table_mean(values, t, "roc_auc") >= table_mean(forest, t, "roc_auc") - 0.10 for t in tables)
        both = f"{mean(values, tables):.4f} | {mean(values, tables, 'ap'):.4f}"
        print(f"| {method} | {score} | {both} | {near}/{len(tables)} |")
    print(f"| IsolationForest | | {mean(forest, tables):.4f} | {mean(forest, tables, 'ap'):.4f} | |")

    order = np.random.default_rng(0).permutation(len(tables))
    folds = [[tables[i] for i in order[k::FOLDS]] for k in range(FOLDS)]
    held_out: dict[str, tuple[float, float]] = {}
    picks = []
    for fold in folds:
        others = [t for t in tables if t not in fold]
        best = max(complete, key=lambda key: mean(complete[key], others))
        picks.append(best)
        for table in fold:
            held_out[table] = (table_mean(complete[best], table, "roc_auc"), table_mean(complete[best], table, "ap"))
    print(f"\nleave-tables-out ({FOLDS} folds): picks {picks}")
    print(
        f"held-out mean ROC-AUC {np.mean([v[0] for v in held_out.values()]):.4f}, "
        f"AP {np.mean([v[1] for v in held_out.values()]):.4f} (IsolationForest {mean(forest, tables):.4f}, "
        f"{mean(forest, tables, 'ap'):.4f})"
    )
    worst = min(tables, key=lambda t: held_out[t][0] - table_mean(forest, t, "roc_auc"))
    print(f"largest shortfall: {worst} {held_out[worst][0]:.3f} against {table_mean(forest, worst, 'roc_auc'):.3f}")
    for method in sorted(seconds):
        if method == "IsolationForest":
            continue
        ratios = [
            statistics.median(seconds[method][t]) / statistics.median(seconds["IsolationForest"][t])
            for t in tables
            if t in seconds[method]
        ]
        print(f"{method}: median fit + score time {statistics.median(ratios):.1f}x IsolationForest's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES))
    parser.add_argument("--max-train", type=int, default=10_000)
    parser.add_argument("--max-test", type=int, default=20_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    summary(args) if args.summary else run(args)


if __name__ == "__main__":
    main()
