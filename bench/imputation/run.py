"""Imputation RMSE on the hidden cells of eight tables, vaelab against scikit-learn's imputers, in one run.

    .venv/bin/python bench/imputation/run.py --jobs 2 [--tables ...] [--patterns mcar50 ...] [--seeds 0 1 2 3 4]
        [--methods mean knn iterative missforest vaelab] [--vaelab-option epochs=100] [--out DIR] [--force]
    .venv/bin/python bench/imputation/summarise.py --write bench/imputation/results.md

For every table (``tables.py``) x pattern (``patterns.py``) x seed x method, the method fills the table with its
cells hidden (``fit_transform``) and is scored by the RMSE over the hidden cells, in standard deviations of the
complete table, and by its fit + impute seconds. Where the table has labels, the imputed table then feeds a
downstream model, next to the same model on the complete table: 5-fold stratified cross-validation of a logistic
regression, scored by ROC-AUC and accuracy (breast_cancer's class, ADBench's anomaly flag: ROC-AUC is the one to
read, since most ADBench tables have few anomalies), or 5-fold cross-validation of a ridge regression scored by R^2
(diabetes's number). Methods:

- ``mean``: ``SimpleImputer()``; ``knn``: ``KNNImputer()`` (5 neighbours, uniform weights);
- ``iterative``: ``IterativeImputer(BayesianRidge(), max_iter=10)``;
- ``missforest``: ``IterativeImputer(RandomForestRegressor(n_estimators=20, max_features="sqrt"), max_iter=5)``:
  missForest's scheme (Stekhoven & Bühlmann 2012; mtry = sqrt(D) as its default) with 20 trees and 5 rounds
  instead of its 100 and 10, since on SpamBase or satellite at 50 % MCAR one round of 100 trees takes over a
  minute on one thread (30 trees and 5 rounds: over 2 minutes per fit);
- ``vaelab``: ``VAEImputer(random_state=seed)`` with its defaults (``--vaelab-option key=value`` changes one;
  the value is read as JSON when it parses, else as text).

Each result is one JSON file ``--out/<table>/<pattern>/<method>/seed<k>.json`` (with, for vaelab, every setting of
the imputer, defaults included, so that a change of defaults mid-run shows), written atomically; a result
already there is not run again (``--force`` redoes it), so an interrupted run resumes. With ``--jobs N`` > 1 the
tasks run in N processes, each limited to one thread (torch, OpenMP, BLAS); with one job the libraries keep their
own thread counts. A task that fails is reported and written nowhere; the run then ends with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from patterns import PATTERNS, hidden_cells
from tables import TABLES, Table, load_table

METHODS = ("mean", "knn", "iterative", "missforest", "vaelab")
FOREST_TREES, FOREST_ROUNDS = 20, 5


def imputer(method: str, seed: int, options: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestRegressor
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
        forest = RandomForestRegressor(FOREST_TREES, max_features="sqrt", n_jobs=1, random_state=seed)
        return IterativeImputer(forest, max_iter=FOREST_ROUNDS, random_state=seed)
    if method == "vaelab":
        from vaelab import VAEImputer

        return VAEImputer(random_state=seed, **options)
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def downstream(x: np.ndarray, table: Table) -> dict[str, float]:
    """5-fold cross-validated scores of a linear model on ``x``: ROC-AUC and accuracy, or R^2 for diabetes."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    if table.task == "regression":
        model, folds, scoring = Ridge(), KFold(5, shuffle=True, random_state=0), ["r2"]
    else:
        model = LogisticRegression(max_iter=2000)
        folds, scoring = StratifiedKFold(5, shuffle=True, random_state=0), ["roc_auc", "accuracy"]
    scores = cross_validate(model, x, table.y, cv=folds, scoring=scoring)
    return {metric: float(scores[f"test_{metric}"].mean()) for metric in scoring}


def run_one(task: tuple[str, str, int, str, dict[str, Any], str, bool, bool]) -> str:
    name, pattern, seed, method, options, out, force, one_thread = task
    path = Path(out) / name / pattern / method / f"seed{seed}.json"
    if path.exists() and not force:
        return f"{path} (kept)"
    table = load_table(name)
    hide = hidden_cells(table.x, pattern, seed, name)
    holes = np.where(hide, np.nan, table.x)
    model = imputer(method, seed, options)  # built (and its modules imported) before the clock starts
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IterativeImputer's convergence warnings
        filled = np.asarray(model.fit_transform(holes), dtype=np.float64)
    seconds = time.perf_counter() - started
    if filled.shape != holes.shape or not np.isfinite(filled).all():
        bad = np.count_nonzero(~np.isfinite(filled))
        raise ValueError(f"{method} returned an array of shape {filled.shape} with {bad} NaN or infinite cells")
    rmse = float(np.sqrt(np.mean((filled[hide] - table.x[hide]) ** 2)))
    result = {
        "table": name,
        "pattern": pattern,
        "seed": seed,
        "method": method,
        "options": options,
        "params": json.loads(json.dumps(model.get_params(), default=str)) if method == "vaelab" else None,
        "rmse": rmse,
        "seconds": seconds,
        "threads": 1 if one_thread else "default",
        "hidden_share": float(hide.mean()),
        "rows": int(table.x.shape[0]),
        "columns": int(table.x.shape[1]),
        "downstream": downstream(filled, table),
        "downstream_complete": downstream(table.x, table),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)
    return f"{name} {pattern} seed {seed} {method}: RMSE {rmse:.4f} in {seconds:.1f} s"


def one_thread() -> None:
    """Pool worker set-up: one thread for torch, OpenMP and BLAS, so that N jobs share N cores."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)  # applies at once and lasts for the process (it is never restored)


def option(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--patterns", nargs="+", default=list(PATTERNS), choices=PATTERNS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--vaelab-option", action="append", default=[], type=option, help="key=value for VAEImputer")
    parser.add_argument("--out", default="/work/runs/imputation")
    parser.add_argument("--force", action="store_true", help="redo results that are already there")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    options = dict(args.vaelab_option)
    tasks = [
        (name, pattern, seed, method, options if method == "vaelab" else {}, args.out, args.force, args.jobs > 1)
        for pattern in args.patterns
        for seed in args.seeds
        for name in args.tables
        for method in args.methods
    ]
    failed = 0
    with ProcessPoolExecutor(args.jobs, initializer=one_thread if args.jobs > 1 else None) as pool:
        futures = {pool.submit(run_one, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                print(future.result(), flush=True)
            except Exception:
                failed += 1
                name, pattern, seed, method = futures[future][:4]
                print(f"{name} {pattern} seed {seed} {method}: FAILED\n{traceback.format_exc()}", flush=True)
    if failed:
        raise SystemExit(f"{failed} of {len(tasks)} tasks failed")


if __name__ == "__main__":
    main()
