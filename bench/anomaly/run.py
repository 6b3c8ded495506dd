"""Anomaly-detection benchmark: vaelab's VAEDetector side by side with IsolationForest and PyOD.

Three parts, each optional:
- ``tables``: the six ADBench tables in <data-dir>/adbench; per seed a stratified 60/40 split, every
  method fitted on the train part without labels (standardised on train), ROC-AUC and average
  precision on the test part, and the fit + score time;
- ``mnist``: one-class MNIST with the 10,000 test images (the training images are not available):
  a stratified 60/40 split, the detector trained on one digit's train images, ROC-AUC on all test images
  (anomaly = any other digit), for each digit;
- ``throughput``: time to score 100,000 rows of a 20-column table with the default detector.

Run with the benchmark's environment (``bench/anomaly/setup.sh``):
    bench/anomaly/.venv/bin/python bench/anomaly/run.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
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
from vaelab.data.idx import load_mnist

TABLES = ("6_cardio", "23_mammography", "28_pendigits", "30_satellite", "32_shuttle", "38_thyroid")
TEST_SIZE = 0.4

# A method: (seed) -> an unfitted detector, and how to turn a fitted one into anomaly scores (higher = worse).
Method = tuple[Callable[[int], Any], Callable[[Any, np.ndarray], np.ndarray]]


def _negated_score_samples(detector: Any, x: np.ndarray) -> np.ndarray:
    return -detector.score_samples(x)


def _pyod_decision(detector: Any, x: np.ndarray) -> np.ndarray:
    return detector.decision_function(x)


def methods(names: list[str]) -> dict[str, Method]:
    """The compared methods, each with its library's defaults (PyOD's deep models quiet, seeded)."""
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.ecod import ECOD
    from pyod.models.vae import VAE

    table: dict[str, Method] = {
        "vaelab VAEDetector": (lambda seed: VAEDetector(random_state=seed), _negated_score_samples),
        "IsolationForest": (lambda seed: IsolationForest(random_state=seed), _negated_score_samples),
        "PyOD ECOD": (lambda seed: ECOD(), _pyod_decision),
        "PyOD AutoEncoder": (lambda seed: AutoEncoder(random_state=seed, verbose=0), _pyod_decision),
        "PyOD VAE": (lambda seed: VAE(random_state=seed, verbose=0), _pyod_decision),
    }
    return {name: table[name] for name in names}


def split_table(path: Path, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified 60/40 split, standardised on the train part: (x_train, x_test, y_test)."""
    with np.load(path) as data:
        x, y = data["X"].astype(np.float64), data["y"].astype(int)
    x_train, x_test, _, y_test = train_test_split(x, y, test_size=TEST_SIZE, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_test


def run_tables(data_dir: Path, seeds: list[int], chosen: dict[str, Method], tables: list[str]) -> list[dict[str, Any]]:
    rows = []
    for table in tables:
        for seed in seeds:
            x_train, x_test, y_test = split_table(data_dir / "adbench" / f"{table}.npz", seed)
            for name, (make, anomaly_score) in chosen.items():
                started = time.perf_counter()
                detector = make(seed).fit(x_train)
                fitted = time.perf_counter()
                scores = anomaly_score(detector, x_test)
                done = time.perf_counter()
                row = {
                    "dataset": table,
                    "seed": seed,
                    "method": name,
                    "roc_auc": roc_auc_score(y_test, scores),
                    "average_precision": average_precision_score(y_test, scores),
                    "fit_s": fitted - started,
                    "score_s": done - fitted,
                }
                if hasattr(detector, "active_units_"):
                    row["active_units"] = int(detector.active_units_[0])
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def summarise_tables(rows: list[dict[str, Any]]) -> str:
    """Markdown: mean ROC-AUC and AP per dataset (± std over seeds), their means, and mean times."""
    method_names = list(dict.fromkeys(r["method"] for r in rows))
    tables = list(dict.fromkeys(r["dataset"] for r in rows))
    lines = []
    for metric in ("roc_auc", "average_precision"):
        lines += [f"\n{metric} (mean ± std over seeds)\n", "| dataset | " + " | ".join(method_names) + " |"]
        lines.append("|---" * (len(method_names) + 1) + "|")
        means: dict[str, list[float]] = {m: [] for m in method_names}
        for table in tables:
            cells = []
            for m in method_names:
                values = [r[metric] for r in rows if r["dataset"] == table and r["method"] == m]
                means[m].append(float(np.mean(values)))
                cells.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
            lines.append(f"| {table} | " + " | ".join(cells) + " |")
        lines.append("| **mean** | " + " | ".join(f"**{np.mean(means[m]):.3f}**" for m in method_names) + " |")
    lines += ["\nfit + score time per split, seconds (mean over datasets and seeds)\n"]
    lines.append("| " + " | ".join(method_names) + " |")
    lines.append("|---" * len(method_names) + "|")
    times = [np.mean([r["fit_s"] + r["score_s"] for r in rows if r["method"] == m]) for m in method_names]
    lines.append("| " + " | ".join(f"{t:.1f}" for t in times) + " |")
    for table in tables:
        active = [r["active_units"] for r in rows if r["dataset"] == table and "active_units" in r]
        if active:
            lines.append(f"\nvaelab active latent units on {table}: {active} (one per seed)")
    return "\n".join(lines)


MNIST_SCORES = ("rate-weighted", "elbo", "reconstruction", "kl", "latent-density")
"""Scores reported per digit from the same fit (the default score first)."""


def split_mnist(data_dir: Path, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images (the training images are not available), stratified 60/40:
    (x_train, x_test, y_train, y_test)."""
    data = load_mnist("test", data_dir)
    assert data.y is not None
    x_train, x_test, y_train, y_test = train_test_split(
        data.x, data.y, test_size=TEST_SIZE, stratify=data.y, random_state=seed
    )
    return x_train, x_test, y_train, y_test


def run_mnist(data_dir: Path, seed: int) -> list[dict[str, Any]]:
    """One-class MNIST: train on one digit's part of ``split_mnist``, score every test image."""
    x_train, x_test, y_train, y_test = split_mnist(data_dir, seed)
    default = VAEDetector().score_type
    rows = []
    for digit in range(10):
        started = time.perf_counter()
        detector = VAEDetector(random_state=seed).fit(x_train[y_train == digit])
        scores = -detector.score_samples(x_test)
        seconds = time.perf_counter() - started
        row: dict[str, Any] = {
            "digit": digit,
            "train_images": int((y_train == digit).sum()),
            "roc_auc": roc_auc_score(y_test != digit, scores),
            "average_precision": average_precision_score(y_test != digit, scores),
            "seconds": seconds,
            "active_units": int(detector.active_units_[0]),
        }
        for score in MNIST_SCORES:
            if score != default:
                other = -detector.set_params(score_type=score).score_samples(x_test)
                row[f"roc_auc_{score}"] = roc_auc_score(y_test != digit, other)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def summarise_mnist(rows: list[dict[str, Any]]) -> str:
    others = [key for key in rows[0] if key.startswith("roc_auc_")]
    header = "| digit | train images | ROC-AUC | AP | " + " | ".join(others) + " | active units | fit + score s |"
    lines = ["\none-class MNIST: ROC-AUC per normal digit (default score; other scores from the same fit)\n", header]
    lines.append("|---" * (6 + len(others)) + "|")
    for r in rows:
        cells = [f"{r[key]:.3f}" for key in others]
        lines.append(
            f"| {r['digit']} | {r['train_images']} | {r['roc_auc']:.3f} | {r['average_precision']:.3f} | "
            + " | ".join(cells)
            + f" | {r['active_units']} | {r['seconds']:.0f} |"
        )
    means = [f"**{np.mean([r[key] for r in rows]):.3f}**" for key in ["roc_auc", "average_precision", *others]]
    lines.append(f"| **mean** | | {means[0]} | {means[1]} | " + " | ".join(means[2:]) + " | | |")
    return "\n".join(lines)


def run_throughput(seed: int, rows: int = 100_000, columns: int = 20, train_rows: int = 10_000) -> dict[str, Any]:
    """Fit the default detector on a correlated 20-column table, then time scoring 100,000 rows."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(4, columns))

    def table(n: int) -> np.ndarray:
        return rng.normal(size=(n, 4)) @ mixing + 0.3 * rng.normal(size=(n, columns))

    detector = VAEDetector(random_state=seed).fit(table(train_rows))
    x = table(rows)
    started = time.perf_counter()
    detector.score_samples(x)
    seconds = time.perf_counter() - started
    result = {"rows": rows, "columns": columns, "score_s": seconds, "rows_per_s": rows / seconds}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--parts", nargs="+", default=["tables", "mnist", "throughput"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["vaelab VAEDetector", "IsolationForest", "PyOD ECOD", "PyOD AutoEncoder", "PyOD VAE"],
    )
    parser.add_argument("--json", type=Path, help="also write every measured row to this JSON file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    # One thread for every method (IsolationForest and ECOD run on one core by default too): small torch
    # models run several times faster single-threaded on this 2-core machine shared with other jobs.
    torch.set_num_threads(1)
    results: dict[str, Any] = {}
    if "tables" in args.parts:
        results["tables"] = run_tables(args.data_dir, list(range(args.seeds)), methods(args.methods), args.tables)
    if "mnist" in args.parts:
        results["mnist"] = run_mnist(args.data_dir, seed=0)
    if "throughput" in args.parts:
        results["throughput"] = run_throughput(seed=0)
    if "tables" in results:
        print(summarise_tables(results["tables"]))
    if "mnist" in results:
        print(summarise_mnist(results["mnist"]))
    if "throughput" in results:
        t = results["throughput"]
        print(f"\nthroughput: scored {t['rows']:,} rows x {t['columns']} columns in {t['score_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
