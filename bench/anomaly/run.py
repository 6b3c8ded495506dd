"""Anomaly-detection benchmark on images and throughput (the tables: ``leave_tables_out.py``, which runs
the detector side by side with IsolationForest and PyOD on all 29 ADBench tables).

Two parts, each optional:
- ``mnist``: one-class MNIST with the 10,000 test images (the training images are not available):
  a stratified 60/40 split, the detector trained on one digit's train images, ROC-AUC on all test images
  (anomaly = any other digit), for each digit;
- ``throughput``: time to score 100,000 rows of a 20-column table with the default detector.

    .venv/bin/python bench/anomaly/run.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from vaelab import VAEDetector
from vaelab.data.idx import load_mnist

TEST_SIZE = 0.4
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
    parser.add_argument("--parts", nargs="+", default=["mnist", "throughput"])
    parser.add_argument("--json", type=Path, help="also write every measured row to this JSON file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    torch.set_num_threads(1)  # small torch models run fastest single-threaded on this 2-core machine
    results: dict[str, Any] = {}
    if "mnist" in args.parts:
        results["mnist"] = run_mnist(args.data_dir, seed=0)
    if "throughput" in args.parts:
        results["throughput"] = run_throughput(seed=0)
    if "mnist" in results:
        print(summarise_mnist(results["mnist"]))
    if "throughput" in results:
        t = results["throughput"]
        print(f"\nthroughput: scored {t['rows']:,} rows x {t['columns']} columns in {t['score_s']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
