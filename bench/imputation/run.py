"""Imputation RMSE on the hidden cells of eight tables, vaelab against scikit-learn's imputers, in one run.

    .venv/bin/python bench/imputation/run.py --jobs 2 [--tables ...] [--patterns mcar50 ...] [--seeds 0 1 2 3 4]
    .venv/bin/python bench/imputation/summarise.py --write bench/imputation/results.md

For every table (``tables.py``) x pattern (``patterns.py``) x seed x method, the method fills the table with its
cells hidden and is scored by the RMSE over the hidden cells, in standard deviations of the complete table. Where
the table has labels, the imputed table then feeds a downstream model (5-fold cross-validation: logistic regression
scored by ROC-AUC for classes, ridge regression by R^2 for diabetes's number), next to the same on the complete
table. Methods:

- ``mean``: scikit-learn's ``SimpleImputer``; ``knn``: ``KNNImputer()`` (5 neighbours);
- ``iterative``: ``IterativeImputer(BayesianRidge(), max_iter=10)``;
- ``missforest``: ``IterativeImputer(ExtraTreesRegressor(n_estimators=50), max_iter=10)`` (missForest's scheme with
  extremely randomised trees, as in the MIWAE paper's comparison; 50 trees to keep the run within hours);
- ``vaelab``: ``VAEImputer(random_state=seed)`` with its defaults (``--vaelab-option key=value`` changes one).

Each result is one JSON file under ``--out`` (written atomically), and a result already there is not run again,
so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from patterns import PATTERNS, hidden_cells
from tables import TABLES, Table, load_table

METHODS = ("mean", "knn", "iterative", "missforest", "vaelab")


def imputer(method: str, seed: int, options: dict[str, Any]) -> Any:
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
    from sklearn.linear_model import BayesianRidge

    if method == "mean":
        return SimpleImputer()
    if method == "knn":
        return KNNImputer()
    if method == "iterative":
        return IterativeImputer(BayesianRidge(), max_iter=10, random_state=seed)
    if method == "missforest":
        trees = ExtraTreesRegressor(n_estimators=50, n_jobs=1, random_state=seed)
        return IterativeImputer(trees, max_iter=10, random_state=seed)
    if method == "vaelab":
        from vaelab import VAEImputer

        return VAEImputer(random_state=seed, threads=1, **options)
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def downstream(x: np.ndarray, table: Table) -> float:
    """5-fold cross-validated ROC-AUC (classes) or R^2 (diabetes) of a linear model on ``x``."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    if table.task == "regression":
        folds = KFold(5, shuffle=True, random_state=0)
        return float(cross_val_score(Ridge(), x, table.y, cv=folds, scoring="r2").mean())
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    model = LogisticRegression(max_iter=2000)
    return float(cross_val_score(model, x, table.y, cv=folds, scoring="roc_auc").mean())


def run_one(task: tuple[str, str, int, str, dict[str, Any], str]) -> str:
    name, pattern, seed, method, options, out = task
    path = Path(out) / name / pattern / method / f"seed{seed}.json"
    if path.exists():
        return f"{path} (kept)"
    import torch

    torch.set_num_threads(1)
    table = load_table(name)
    hide = hidden_cells(table.x, pattern, seed, name)
    holes = np.where(hide, np.nan, table.x)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IterativeImputer's convergence warnings
        filled = imputer(method, seed, options).fit_transform(holes)
    seconds = time.perf_counter() - started
    rmse = float(np.sqrt(np.mean((filled[hide] - table.x[hide]) ** 2)))
    result = {
        "table": name,
        "pattern": pattern,
        "seed": seed,
        "method": method,
        "options": options,
        "rmse": rmse,
        "seconds": seconds,
        "hidden_share": float(hide.mean()),
        "rows": int(table.x.shape[0]),
        "columns": int(table.x.shape[1]),
        "downstream": downstream(filled, table),
        "downstream_complete": downstream(table.x, table),
        "downstream_metric": "r2" if table.task == "regression" else "roc_auc",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)
    return f"{name} {pattern} seed {seed} {method}: RMSE {rmse:.4f} in {seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--patterns", nargs="+", default=list(PATTERNS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--vaelab-option", action="append", default=[], help="key=value passed to VAEImputer")
    parser.add_argument("--out", default="/work/runs/imputation")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    options = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.vaelab_option)}
    tasks = [
        (name, pattern, seed, method, options if method == "vaelab" else {}, args.out)
        for pattern in args.patterns
        for seed in args.seeds
        for name in args.tables
        for method in args.methods
    ]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.jobs == 1:
        for task in tasks:
            print(run_one(task), flush=True)
        return
    with ProcessPoolExecutor(args.jobs) as pool:
        for line in pool.map(run_one, tasks):
            print(line, flush=True)


if __name__ == "__main__":
    main()
