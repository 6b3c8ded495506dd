"""How the weight w of the rate-weighted score ``E_q log p(x|z) - w KL(q(z|x) || p(z))`` ranks anomalies
beyond the ADBench tables (``options.py`` gives the tables): ROC-AUC per w, every w from the same fits.

- ``mnist``: one-class MNIST as in run.py (the 10,000 test images, stratified 60/40, one digit's train part);
- ``digits``: one-class on scikit-learn's 8 x 8 digits (even rows train, odd rows test);
- ``subspace``: rows near a 3-D subspace of a 10-D space (normal) against rows uniform in a box (anomalies,
  off the data manifold: only the reconstruction term sees them), five seeds.

    bench/anomaly/.venv/bin/python bench/anomaly/rate_weight.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from run import split_mnist
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from vaelab import VAEDetector
from vaelab.applications.anomaly import PosteriorCollapseWarning

WEIGHTS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""w = 1 is the ELBO; the last column of the table is the rate alone (w -> infinity)."""

Task = tuple[str, np.ndarray, np.ndarray, np.ndarray, int]  # (name, x_train, x_test, is_anomaly, seed)


def mnist_tasks(data_dir: Path) -> Iterator[Task]:
    x_train, x_test, y_train, y_test = split_mnist(data_dir, seed=0)
    for digit in range(10):
        yield f"digit {digit}", x_train[y_train == digit], x_test, y_test != digit, 0


def digits_tasks() -> Iterator[Task]:
    digits = load_digits()
    images, labels = (digits.images / 16).astype(np.float32), digits.target
    train = np.arange(len(images)) % 2 == 0
    for digit in range(10):
        yield f"digit {digit}", images[train & (labels == digit)], images[~train], labels[~train] != digit, 0


def subspace_tasks() -> Iterator[Task]:
    basis = np.random.default_rng(0).normal(size=(3, 10))

    def rows(n: int, outliers: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        normal = rng.normal(size=(n, 3)) @ basis + 0.05 * rng.normal(size=(n, 10))
        x = np.vstack([normal, rng.uniform(-4, 4, size=(outliers, 10))])
        return x, np.r_[np.zeros(n, bool), np.ones(outliers, bool)]

    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        (x_train, _), (x_test, y_test) = rows(1000, 50, rng), rows(1000, 100, rng)
        yield f"seed {seed}", x_train, x_test, y_test, seed


def sweep(tasks: Iterator[Task]) -> list[tuple[str, list[float]]]:
    """ROC-AUC per task for each w in WEIGHTS and for the rate alone."""
    results = []
    for name, x_train, x_test, is_anomaly, seed in tasks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PosteriorCollapseWarning)
            detector = VAEDetector(random_state=seed).fit(x_train)
        reconstruction = detector.set_params(score_type="reconstruction").score_samples(x_test)
        rate = -detector.set_params(score_type="kl").score_samples(x_test)
        cells = [roc_auc_score(is_anomaly, -(reconstruction - w * rate)) for w in WEIGHTS]
        results.append((name, [*cells, roc_auc_score(is_anomaly, rate)]))
        print(name, " ".join(f"{c:.3f}" for c in results[-1][1]), flush=True)
    return results


def table(title: str, results: list[tuple[str, list[float]]]) -> str:
    header = " | ".join(f"w = {w:g}" for w in WEIGHTS)
    lines = [f"\n{title}\n", f"| task | {header} | rate alone |", "|---" * (len(WEIGHTS) + 2) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |" for name, cells in results]
    means = np.mean([cells for _, cells in results], axis=0)
    lines.append("| **mean** | " + " | ".join(f"**{m:.3f}**" for m in means) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--parts", nargs="+", default=["subspace", "digits", "mnist"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in run.py
    tasks = {"subspace": subspace_tasks, "digits": digits_tasks, "mnist": lambda: mnist_tasks(args.data_dir)}
    tables = [table(f"{part}: ROC-AUC of reconstruction - w KL", sweep(tasks[part]())) for part in args.parts]
    print("\n".join(tables))


if __name__ == "__main__":
    main()
