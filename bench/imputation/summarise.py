"""Tables of the imputation benchmark's results (``run.py``): RMSE per table and method, the bar's counts,
downstream scores and times, as markdown.

    .venv/bin/python bench/imputation/summarise.py [--out /work/runs/imputation] [--write bench/imputation/results.md]

Per pattern: the mean ± sd over seeds of the RMSE on the hidden cells (best mean in bold; a table is listed once
every method present in the run has a result for it), the count of tables where vaelab's mean RMSE is below mean
imputation's, below KNN's and at or below missForest's (the issue's bar is read at mcar50: below mean and KNN on
every table, at or below missForest on a majority), and the downstream scores. Then the median fit + impute
seconds per table and method over patterns and seeds, and per method over everything.
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

BAR_PATTERN = "mcar50"
Results = dict[tuple[str, str, str], list[dict]]


def load(out: Path) -> Results:
    results: Results = defaultdict(list)
    for path in sorted(out.glob("*/*/*/seed*.json")):
        result = json.loads(path.read_text())
        results[(result["table"], result["pattern"], result["method"])].append(result)
    return results


def complete_tables(results: Results, pattern: str, methods: list[str]) -> list[str]:
    return [t for t in TABLES if all(results.get((t, pattern, m)) for m in methods)]


def mean_rmse(results: Results, table: str, pattern: str, method: str) -> float:
    return float(np.mean([r["rmse"] for r in results[(table, pattern, method)]]))


def rmse_table(results: Results, pattern: str, methods: list[str]) -> list[str]:
    lines = [f"| table (seeds) | {' | '.join(methods)} |", "|---|" + "---|" * len(methods)]
    for table in complete_tables(results, pattern, methods):
        rmses = {m: [r["rmse"] for r in results[(table, pattern, m)]] for m in methods}
        best = min(float(np.mean(v)) for v in rmses.values())
        cells = []
        for values in rmses.values():
            text = f"{np.mean(values):.3f} ± {np.std(values):.3f}"
            cells.append(f"**{text}**" if float(np.mean(values)) == best else text)
        seeds = min(len(v) for v in rmses.values())
        lines.append(f"| {table} ({seeds}) | {' | '.join(cells)} |")
    return lines


def bar_counts(results: Results, pattern: str) -> list[str]:
    """Tables where vaelab's mean RMSE is below mean's and KNN's, and at or below missForest's."""
    tables = complete_tables(results, pattern, ["vaelab", "mean", "knn", "missforest"])
    if not tables:
        return []
    vaelab = {t: mean_rmse(results, t, pattern, "vaelab") for t in tables}
    below_mean = sum(vaelab[t] < mean_rmse(results, t, pattern, "mean") for t in tables)
    below_knn = sum(vaelab[t] < mean_rmse(results, t, pattern, "knn") for t in tables)
    vs_forest = sum(vaelab[t] <= mean_rmse(results, t, pattern, "missforest") for t in tables)
    lines = [
        f"At {pattern}, vaelab's mean RMSE is below mean imputation's on {below_mean} of {len(tables)} tables, below "
        f"KNN's on {below_knn} of {len(tables)}, and at or below missForest's on {vs_forest} of {len(tables)}."
    ]
    if pattern == BAR_PATTERN:
        met = below_mean == below_knn == len(tables) and 2 * vs_forest > len(tables)
        lines.append(f"Bar (on these {len(tables)} tables): {'met' if met else 'not met'}.")
    return lines


def downstream_table(results: Results, pattern: str, methods: list[str]) -> list[str]:
    lines = [f"| table | metric | complete | {' | '.join(methods)} |", "|---|---|---|" + "---|" * len(methods)]
    for table in complete_tables(results, pattern, methods):
        first = results[(table, pattern, methods[0])][0]
        for metric, complete in first["downstream_complete"].items():
            cells = [f"{np.mean([r['downstream'][metric] for r in results[(table, pattern, m)]]):.3f}" for m in methods]
            lines.append(f"| {table} | {metric} | {complete:.3f} | {' | '.join(cells)} |")
    return lines


def time_table(results: Results, methods: list[str]) -> list[str]:
    def median(method: str, table: str | None = None) -> str:
        seconds = [r["seconds"] for (t, _, m), rs in results.items() if m == method and table in (None, t) for r in rs]
        return f"{np.median(seconds):.1f}" if seconds else "–"

    lines = [f"| table | {' | '.join(methods)} |", "|---|" + "---|" * len(methods)]
    for table in TABLES:
        if any(key[0] == table for key in results):
            lines.append(f"| {table} | {' | '.join(median(m, table) for m in methods)} |")
    lines.append(f"| all tables | {' | '.join(median(m) for m in methods)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/work/runs/imputation"))
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    results = load(args.out)
    if not results:
        raise SystemExit(f"no results under {args.out}")
    methods = [m for m in METHODS if any(key[2] == m for key in results)]
    lines: list[str] = []
    vaelab = [r for (_, _, m), rs in results.items() if m == "vaelab" for r in rs]
    settings = {json.dumps(r["options"], sort_keys=True) for r in vaelab}
    if settings:
        lines += [f"vaelab's settings besides the defaults: {', '.join(sorted(settings))}", ""]
    recorded = {  # the seed aside, which differs by design
        json.dumps({k: v for k, v in r["params"].items() if k != "random_state"}, sort_keys=True)
        for r in vaelab
        if r.get("params") is not None
    }
    if len(recorded) > 1:
        lines += ["**Warning: the vaelab results come from imputers with different settings (see `params`).**", ""]
    unrecorded = sum(r.get("params") is None for r in vaelab)
    if unrecorded:
        lines += [f"{unrecorded} vaelab results were written before run.py recorded the imputer's settings.", ""]
    for pattern in PATTERNS:
        if not any(key[1] == pattern for key in results):
            continue
        lines += [f"### RMSE on the hidden cells, {pattern} (mean ± sd over seeds; best in bold)", ""]
        lines += [*rmse_table(results, pattern, methods), ""]
        if "vaelab" in methods and (counts := bar_counts(results, pattern)):
            lines += [*counts, ""]
        lines += [f"Downstream, {pattern}: 5-fold CV of a linear model on the imputed table (mean over seeds)", ""]
        lines += [*downstream_table(results, pattern, methods), ""]
    threads = sorted({str(r["threads"]) for rs in results.values() for r in rs})
    lines += [f"### Median fit + impute seconds over patterns and seeds (threads per task: {', '.join(threads)})", ""]
    lines += time_table(results, methods)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        tmp = args.write.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, args.write)


if __name__ == "__main__":
    main()
