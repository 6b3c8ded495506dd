"""Choosing the detector's defaults by leave-tables-out over the 29 ADBench tables, and the detector side by
side with the baselines users would pick instead (issue 25).

For every table, seed and method: a stratified 60/40 split (test parts of more than ``--max-test`` rows
subsampled, stratified), the columns standardised on the train part, then the method fitted on the train
part without labels and scored on the test part: ROC-AUC, average precision, and fit + score seconds.
- vaelab's ``VAEDetector`` with each candidate setting of ``CANDIDATES`` (``default``: no parameter given),
  fitted on the whole train part (the detector subsamples ``max_train_rows`` itself). One fit gives the
  figures of several scores (its own, and the rate weights ``RATE_WEIGHTS``, of which w = 1 is the ELBO),
  since the score does not change training.
- Baselines, each with its library's defaults: scikit-learn's IsolationForest (always) and, with
  ``--baselines`` in the benchmark's environment (``setup.sh``: PyOD), PyOD's ECOD, KNN, AutoEncoder and
  VAE. IsolationForest, ECOD and KNN see the whole train part; PyOD's AutoEncoder and VAE, which train for a
  fixed number of epochs over every row, see a seeded subsample of ``--max-deep-train`` rows (without it
  they take minutes per large table).
Each result is one JSON line in ``--out``; a run skips what the file already holds, so it resumes.

``--summary`` then reads the file:
- the mean over tables of each (candidate, score), and of each baseline;
- the leave-tables-out figure: the tables in ``FOLDS`` folds (a fixed permutation), each fold's tables
  scored with the (candidate, score) that has the best mean ROC-AUC + AP on the other folds' tables; next to
  it the in-sample best and IsolationForest's means;
- per table, every method's ROC-AUC, AP and fit + score seconds, and each method's median time ratio to
  IsolationForest.

    .venv/bin/python bench/anomaly/leave_tables_out.py --data-dir ../shared/data --out lto.jsonl
    bench/anomaly/.venv/bin/python bench/anomaly/leave_tables_out.py --data-dir ../shared/data \
        --baselines --candidates --seeds 0 1 --out lto.jsonl
    .venv/bin/python bench/anomaly/leave_tables_out.py --summary --out lto.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from vaelab import VAEDetector
from vaelab.applications.anomaly import defaults

TEST_SIZE = 0.4
FOLDS = 5
RATE_WEIGHTS = (1.0, 4.0, 16.0)
"""Rate weights scored besides the candidate's own score; w = 1 is the ELBO."""
CANDIDATES: dict[str, dict[str, Any]] = {
    "default": {},
    "models1": {"n_models": 1},
    "models1-trim0.1-steps100": {"n_models": 1, "trim": 0.1, "steps": 100},
    "models1-trim0.1-steps150": {"n_models": 1, "trim": 0.1, "steps": 150},
    "models1-trim0.1-steps250": {"n_models": 1, "trim": 0.1, "steps": 250},
    "models1-trim0.05-steps150": {"n_models": 1, "trim": 0.05, "steps": 150},
    "models1-trim0.2-steps150": {"n_models": 1, "trim": 0.2, "steps": 150},
    "models1-binary-gaussian-trim0.1-steps150": {
        "n_models": 1,
        "binary_columns": "gaussian",
        "trim": 0.1,
        "steps": 150,
    },
    "models1-unit-likelihood-trim0.1-steps150": {
        "n_models": 1,
        "likelihood": "gaussian-unit",
        "trim": 0.1,
        "steps": 150,
    },
    "models1-quantile": {"n_models": 1, "scaling": "quantile"},
}
"""Candidate settings: VAEDetector parameters over its defaults; ``steps``, the optimisation steps per fit,
is turned into epochs for the training rows' number."""
BASELINES = ("IsolationForest", "PyOD ECOD", "PyOD KNN", "PyOD AutoEncoder", "PyOD VAE")
DEEP_BASELINES = ("PyOD AutoEncoder", "PyOD VAE")


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


def baseline(name: str, seed: int) -> tuple[Any, Callable[[Any, np.ndarray], np.ndarray]]:
    """An unfitted baseline and its anomaly score (higher = more anomalous)."""
    if name == "IsolationForest":
        return IsolationForest(random_state=seed), lambda model, x: -model.score_samples(x)
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.ecod import ECOD
    from pyod.models.knn import KNN
    from pyod.models.vae import VAE

    made = {
        "PyOD ECOD": lambda: ECOD(),
        "PyOD KNN": lambda: KNN(),
        "PyOD AutoEncoder": lambda: AutoEncoder(random_state=seed, verbose=0),
        "PyOD VAE": lambda: VAE(random_state=seed, verbose=0),
    }[name]()
    return made, lambda model, x: model.decision_function(x)


def run_baseline(name: str, train: np.ndarray, test: np.ndarray, y: np.ndarray, seed: int, max_deep: int) -> dict:
    started = time.perf_counter()
    if name in DEEP_BASELINES and len(train) > max_deep:
        train = train[np.random.default_rng(seed).choice(len(train), size=max_deep, replace=False)]
    model, anomaly_score = baseline(name, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = anomaly_score(model.fit(train), test)
    return {
        "seconds": time.perf_counter() - started,
        "train_rows": len(train),
        "scores": {"default": figures(y, scores)},
    }


def run_candidate(setting: dict[str, Any], train: np.ndarray, test: np.ndarray, y: np.ndarray, seed: int) -> dict:
    started = time.perf_counter()
    params = {key: value for key, value in setting.items() if key != "steps"}
    if "steps" in setting:  # the detector's own rule, for this many steps
        rows = min(len(train), params.get("max_train_rows", defaults.MAX_TRAIN_ROWS))
        batch = params.get("batch_size") or defaults.batch_size(rows, images=False)
        params["epochs"] = defaults.epochs(rows, batch, images=False, steps=setting["steps"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # posterior-collapse warnings: the figures say how it ranks
        detector = VAEDetector(random_state=seed, **params).fit(train)
        own = -detector.score_samples(test)
    seconds = time.perf_counter() - started
    scores = {"default": figures(y, own)}
    for weight in RATE_WEIGHTS:
        detector.set_params(score_type="rate-weighted", rate_weight=weight)
        scores[f"w={weight:g}"] = figures(y, -detector.score_samples(test))
    return {"seconds": seconds, "train_rows": int(detector.n_train_rows_), "scores": scores}


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)  # every method on one thread, as IsolationForest, ECOD and KNN run by default
    done = set()
    if args.out.is_file():
        done = {(r["table"], r["seed"], r["method"]) for r in map(json.loads, args.out.read_text().splitlines())}
    tables = sorted(args.data_dir.joinpath("adbench").glob("*.npz"), key=lambda p: int(p.name.split("_")[0]))
    baselines = list(BASELINES) if args.baselines == [] else args.baselines
    candidates = list(CANDIDATES) if args.candidates is None else args.candidates
    for path in tables:
        x, y = load_table(path)
        for seed in args.seeds:
            train, test, y_test = split(x, y, seed, args.max_test)
            for method in [*baselines, *candidates]:
                if (path.stem, seed, method) in done:
                    continue
                result = (
                    run_baseline(method, train, test, y_test, seed, args.max_deep_train)
                    if method in BASELINES
                    else run_candidate(CANDIDATES[method], train, test, y_test, seed)
                )
                record = {"table": path.stem, "seed": seed, "method": method, **result}
                with args.out.open("a") as out:
                    out.write(json.dumps(record) + "\n")
                auc = record["scores"]["default"]["roc_auc"]
                print(f"{path.stem} seed {seed} {method}: ROC-AUC {auc:.3f} in {record['seconds']:.1f} s", flush=True)


Figures = dict[str, list[dict[str, float]]]  # table -> one {"roc_auc", "ap"} per seed


def table_mean(values: Figures, table: str, figure: str) -> float:
    return float(np.mean([v[figure] for v in values[table]]))


def mean(values: Figures, tables: list[str], figure: str) -> float:
    return float(np.mean([table_mean(values, t, figure) for t in tables]))


def summary(args: argparse.Namespace) -> None:
    records = [json.loads(line) for line in args.out.read_text().splitlines()]
    by_key: dict[tuple[str, str], Figures] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        for score, values in r["scores"].items():
            by_key[(r["method"], score)][r["table"]].append(values)
        seconds[r["method"]][r["table"]].append(r["seconds"])
    forest = by_key[("IsolationForest", "default")]
    tables = sorted(forest, key=lambda t: int(t.split("_")[0]))
    seeds = sorted({len(v) for v in forest.values()})
    complete = {key: v for key, v in by_key.items() if key[0] not in BASELINES and set(v) >= set(tables)}

    def both(values: Figures, names: list[str]) -> float:
        return mean(values, names, "roc_auc") + mean(values, names, "ap")

    print(f"{len(tables)} tables, seeds per table (IsolationForest): {seeds}\n")
    print("| method | score | mean ROC-AUC | mean AP | tables within IF - 0.10 |")
    print("|---|---|---|---|---|")
    rows = sorted(complete.items(), key=lambda kv: -both(kv[1], tables))
    rows += [((m, "default"), by_key[(m, "default")]) for m in BASELINES if set(by_key[(m, "default")]) >= set(tables)]
    for (method, score), values in rows:
        near = sum(table_mean(values, t, "roc_auc") >= table_mean(forest, t, "roc_auc") - 0.10 for t in tables)
        print(
            f"| {method} | {score} | {mean(values, tables, 'roc_auc'):.4f} | {mean(values, tables, 'ap'):.4f} | "
            f"{near}/{len(tables)} |"
        )

    order = np.random.default_rng(0).permutation(len(tables))
    folds = [[tables[i] for i in order[k::FOLDS]] for k in range(FOLDS)]
    held_out: dict[str, tuple[float, float]] = {}
    picks = []
    for fold in folds:
        others = [t for t in tables if t not in fold]
        best = max(complete, key=lambda key: both(complete[key], others))
        picks.append(best)
        for table in fold:
            held_out[table] = (table_mean(complete[best], table, "roc_auc"), table_mean(complete[best], table, "ap"))
    in_sample = max(complete, key=lambda key: both(complete[key], tables))
    print(f"\nleave-tables-out ({FOLDS} folds), picked on the other folds by mean ROC-AUC + AP: {picks}")
    print(
        f"held-out mean ROC-AUC {np.mean([v[0] for v in held_out.values()]):.4f}, "
        f"AP {np.mean([v[1] for v in held_out.values()]):.4f}; in-sample best {in_sample}: "
        f"{mean(complete[in_sample], tables, 'roc_auc'):.4f}, {mean(complete[in_sample], tables, 'ap'):.4f}; "
        f"IsolationForest {mean(forest, tables, 'roc_auc'):.4f}, {mean(forest, tables, 'ap'):.4f}"
    )
    shortfall = {t: held_out[t][0] - table_mean(forest, t, "roc_auc") for t in tables}
    worst = min(tables, key=shortfall.__getitem__)
    print(f"largest held-out shortfall: {worst} {held_out[worst][0]:.3f} against IsolationForest's "
          f"{table_mean(forest, worst, 'roc_auc'):.3f}; tables within IF - 0.10: "
          f"{sum(v >= -0.10 for v in shortfall.values())}/{len(tables)}")  # fmt: skip

    seen = dict.fromkeys(r["method"] for r in records)
    settings = [m for m in CANDIDATES if m in seen] + [m for m in seen if m not in CANDIDATES and m not in BASELINES]
    methods = [m for m in [*BASELINES, *settings] if set(seconds[m]) >= set(tables)]
    print("\nmedian over tables of (fit + score seconds / IsolationForest's), each table's median over seeds:")
    for method in methods:
        ratios = [
            statistics.median(seconds[method][t]) / statistics.median(seconds["IsolationForest"][t]) for t in tables
        ]
        print(f"- {method}: {statistics.median(ratios):.1f}x")
    print("\nper table, own score (ROC-AUC / AP / fit + score s, means over seeds):\n")
    print("| table | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for t in tables:
        own = {m: by_key[(m, "default")] for m in methods}
        cells = [
            f"{table_mean(own[m], t, 'roc_auc'):.3f} / {table_mean(own[m], t, 'ap'):.3f} / {np.mean(seconds[m][t]):.2f}"
            for m in methods
        ]
        print(f"| {t} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--candidates",
        nargs="*",
        choices=list(CANDIDATES),
        help="vaelab settings to run (option left out: all; given alone: none)",
    )
    parser.add_argument(
        "--baselines",
        nargs="*",
        choices=BASELINES,
        default=["IsolationForest"],
        help="baselines to run (option left out: IsolationForest; given alone: all, PyOD's need setup.sh)",
    )
    parser.add_argument("--max-test", type=int, default=20_000)
    parser.add_argument("--max-deep-train", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    summary(args) if args.summary else run(args)


if __name__ == "__main__":
    main()
