"""The imputation benchmark's tables: two from scikit-learn and six from ADBench, standardised, labels kept apart.

Each table is standardised with the mean and standard deviation of the complete table (as in the MIWAE paper's
UCI experiments), so RMSEs are in standard deviations and comparable across tables; constant columns are dropped.
magic.gamma is subsampled to 5,000 rows (seeded). The labels (a class for breast_cancer and the ADBench anomaly
flags, a number for diabetes) serve the downstream check only; no imputer sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes

ADBENCH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "adbench"
ADBENCH_TABLES = {
    "cardio": "6_cardio",
    "satellite": "30_satellite",
    "pendigits": "28_pendigits",
    "mammography": "23_mammography",
    "SpamBase": "35_SpamBase",
    "magic.gamma": "22_magic.gamma",
}
TABLES = ("breast_cancer", "diabetes", *ADBENCH_TABLES)
SUBSAMPLE = {"magic.gamma": 5000}


@dataclass(frozen=True)
class Table:
    name: str
    x: np.ndarray  # (N, D) standardised
    y: np.ndarray  # (N,) labels: classes, or numbers for a regression target
    task: str  # "classification" or "regression"


def load_table(name: str) -> Table:
    if name == "breast_cancer":
        data = load_breast_cancer()
        x, y, task = data.data, data.target, "classification"
    elif name == "diabetes":
        data = load_diabetes()
        x, y, task = data.data, data.target, "regression"
    elif name in ADBENCH_TABLES:
        path = ADBENCH / f"{ADBENCH_TABLES[name]}.npz"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: the ADBench tables live in ../shared/data/adbench")
        arrays = np.load(path, allow_pickle=False)
        x, y, task = arrays["X"], arrays["y"].astype(int), "classification"
    else:
        raise SystemExit(f"unknown table {name!r}; choose from {', '.join(TABLES)}")
    x = np.asarray(x, dtype=np.float64)
    if name in SUBSAMPLE:
        rows = np.sort(np.random.default_rng(0).choice(len(x), SUBSAMPLE[name], replace=False))
        x, y = x[rows], y[rows]
    x = x[:, x.std(0) > 0]
    return Table(name, (x - x.mean(0)) / x.std(0), np.asarray(y), task)
