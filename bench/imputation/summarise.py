"""Tables of the imputation benchmark's results (``run.py``): RMSE per table and method, the bar's counts,
downstream scores and times.

    .venv/bin/python bench/imputation/summarise.py [--out /work/runs/imputation] [--write bench/imputation/results.md]
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from patterns import PATTERNS
from run import METHODS
from tables import TABLES


def load(out: Path) -> dict[tuple[str, str, str], list[dict]]:
    results: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for path in sorted(out.glob("*/*/*/seed*.json")):
        result = json.loads(path.read_text())
        results[(result["table"], result["pattern"], result["method"])].append(result)
    return results


def rmse_table(results: dict, pattern: str, methods: list[str]) -> list[str]:
    lines = [f"| table | {' | '.join(methods)} |", "|---|" + "---|" * len(methods)]
    for table in TABLES:
        cells = {m: [r["rmse"] for r in results.get((table, pattern, m), [])] for m in methods}
        if not all(cells.values()):
            continue
        means = {m: float(np.mean(v)) for m, v in cells.items()}
        best = min(means.values())
        row = []
        for m in methods:
            text = f"{means[m]:.3f} ± {np.std(cells[m]):.3f}"
            row.append(f"**{text}**" if means[m] == best else text)
        seeds = min(len(v) for v in cells.values())
        lines.append(f"| {table} ({seeds} seeds) | {' | '.join(row)} |")
    return lines


def bar_counts(results: dict, pattern: str) -> list[str]:
    """Tables where vaelab's mean RMSE is below mean's and KNN's, and at or below missForest's."""
    tables = [t for t in TABLES if all(results.get((t, pattern, m)) for m in ("vaelab", "mean", "knn", "missforest"))]

    def mean_rmse(table: str, method: str) -> float:
        return float(np.mean([r["rmse"] for r in results[(table, pattern, method)]]))

    below_mean = sum(mean_rmse(t, "vaelab") < mean_rmse(t, "mean") for t in tables)
    below_knn = sum(mean_rmse(t, "vaelab") < mean_rmse(t, "knn") for t in tables)
    vs_forest = sum(mean_rmse(t, "vaelab") <= mean_rmse(t, "missforest") for t in tables)
    return [
        f"At {pattern}, vaelab's mean RMSE is below mean imputation's on {below_mean} of {len(tables)} tables, below "
        f"KNN's on {below_knn} of {len(tables)}, and at or below missForest's on {vs_forest} of {len(tables)}."
    ]


def downstream_table(results: dict, pattern: str, methods: list[str]) -> list[str]:
    lines = [f"| table (metric) | complete | {' | '.join(methods)} |", "|---|---|" + "---|" * len(methods)]
    for table in TABLES:
        rows = {m: results.get((table, pattern, m), []) for m in methods}
        if not all(rows.values()):
            continue
        first = next(iter(rows.values()))[0]
        cells = [f"{np.mean([r['downstream'] for r in rows[m]]):.3f}" for m in methods]
        lines.append(
            f"| {table} ({first['downstream_metric']}) | {first['downstream_complete']:.3f} | {' | '.join(cells)} |"
        )
    return lines


def time_line(results: dict, methods: list[str]) -> list[str]:
    medians = []
    for m in methods:
        seconds = [r["seconds"] for (t, p, method), rs in results.items() if method == m for r in rs]
        if seconds:
            medians.append(f"{m} {np.median(seconds):.1f} s")
    return [
        "Median fit + impute time per table (all patterns, the benchmark's own processes): " + ", ".join(medians) + "."
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/work/runs/imputation"))
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    results = load(args.out)
    methods = [m for m in METHODS if any(key[2] == m for key in results)]
    lines: list[str] = []
    for pattern in PATTERNS:
        if not any(key[1] == pattern for key in results):
            continue
        lines += [f"### RMSE on the hidden cells, {pattern} (mean ± sd over seeds; best in bold)", ""]
        lines += [*rmse_table(results, pattern, methods), ""]
        if "vaelab" in methods:
            lines += [*bar_counts(results, pattern), ""]
        lines += [f"Downstream, {pattern}: 5-fold CV of a linear model on the imputed table (mean over seeds)", ""]
        lines += [*downstream_table(results, pattern, methods), ""]
    lines += time_line(results, methods)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        tmp = args.write.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, args.write)


if __name__ == "__main__":
    main()
