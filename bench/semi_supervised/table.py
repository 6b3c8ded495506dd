"""The semi-supervised benchmark's tables from ``run.py``'s results, beside the published figures.

    .venv/bin/python bench/semi_supervised/table.py [--out bench/semi_supervised/out] [--write results.md]

Per method and N: test accuracy as mean ± sd over the label draws (their number in brackets) and the median
training minutes; then, for N = 100, M2's accuracy minus the supervised-only classifier's, draw by draw. Results
run with other settings (epochs, a subset of the unlabelled rows, ...) are rows of their own, named by them.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from vaelab.atomic import atomic_write_text

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
NUM_LABELLED = (100, 600, 1000, 3000)
FULL_UNLABELLED = 50_000

NAMES = {
    "m2": "M2 (vaelab), last epoch",
    "m2@elbo": "M2 (vaelab), epoch of best validation ELBO",
    "supervised": "same classifier, N labels alone",
    "m1": "M1 (vaelab VAE) + logistic regression",
    "label_spreading": "LabelSpreading (kNN, 7)",
    "self_training": "SelfTrainingClassifier(LogisticRegression)",
    "m1_m2": "M1+M2 (vaelab VAEEncoder + VAEClassifier), last epoch",
    "m1@m1_m2": "M1 (the M1+M2 run's VAEEncoder codes) + logistic regression",
}
TRAINING_SETTINGS = {  # the settings that change a method's result, named in its row when not the defaults
    "m2": ("epochs", "max_minutes", "lr", "batch_size", "labelled_per_batch", "alpha", "hidden", "latent_dim"),
    "m1": ("epochs", "max_minutes", "lr", "batch_size", "hidden", "latent_dim"),
    "supervised": ("hidden", "supervised_steps"),
    "m1_m2": ("epochs", "batch_size", "hidden", "latent_dim", "m1_hidden", "m1_epochs", "stacked_alpha", "m1_active"),
}
PUBLISHED = {
    "Pyro SS-VAE tutorial (grey-level MNIST; epoch of best accuracy on 10,000 labelled validation images)": (
        93.19,
        94.37,
        94.87,
        95.82,
    ),
    "Kingma et al. 2014, M2 (Table 1)": (88.0, 95.1, 96.4, 96.1),
    "Kingma et al. 2014, M1+M2 (Table 1)": (96.67, 97.41, 97.60, 97.82),
}


def read_results(out: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]


def varying_settings(results: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Method -> the training settings whose values differ among its results (named in the rows)."""
    varying = {}
    for method, keys in TRAINING_SETTINGS.items():
        ran = [r.get("settings", {}) for r in results if r["method"] == method]
        varying[method] = tuple(key for key in keys if len({json.dumps(s.get(key)) for s in ran}) > 1)
    return varying


def common_settings(results: list[dict[str, Any]]) -> list[str]:
    """One line per method with the training settings all its results share."""
    varying = varying_settings(results)
    lines = []
    for method, keys in TRAINING_SETTINGS.items():
        ran = [r["settings"] for r in results if r["method"] == method and "settings" in r]
        shared = [f"{key} {ran[0].get(key)}" for key in keys if ran and key not in varying[method]]
        if shared:
            lines.append(f"- {NAMES[method]}: {', '.join(shared)}")
    return lines


def row_name(result: dict[str, Any], method: str, varying: dict[str, tuple[str, ...]]) -> str:
    """The method's name with what sets its results apart: a subset of the unlabelled rows, settings that vary."""
    name = NAMES[method]
    notes = []
    unlabelled = result.get("unlabelled_rows")
    if unlabelled is not None and unlabelled != FULL_UNLABELLED and result["method"] != "supervised":
        notes.append(f"{unlabelled:,} unlabelled rows")
    if result.get("unlabelled_limit") is not None:
        notes.append(f"--unlabelled-limit {result['unlabelled_limit']}")
    settings = result.get("settings", {})
    notes += [f"{key} {settings.get(key)}" for key in varying.get(result["method"], ())]
    return f"{name} [{', '.join(notes)}]" if notes else name


def accuracy_rows(results: list[dict[str, Any]]) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """Row name -> N -> results (``m2`` gives two rows: the last epoch and the best validation ELBO's; ``m1_m2`` two:
    M1+M2 and M1's logistic regression on the same codes)."""
    rows: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    order, varying = list(NAMES), varying_settings(results)
    for result in sorted(results, key=lambda r: (order.index(r["method"]), r["n"], r["draw"])):
        rows[row_name(result, result["method"], varying)][result["n"]].append(result)
        if result["method"] == "m2":
            at_elbo = {**result, "accuracy": result["accuracy_best_elbo"]}
            rows[row_name(result, "m2@elbo", varying)][result["n"]].append(at_elbo)
        if result["method"] == "m1_m2":
            logistic = {**result, "accuracy": result["m1_logistic_accuracy"]}
            rows[row_name(result, "m1@m1_m2", varying)][result["n"]].append(logistic)
    return rows


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f} ({len(values)})"


def columns(results: list[dict[str, Any]]) -> list[int]:
    return sorted({*NUM_LABELLED, *(r["n"] for r in results)})


def markdown(results: list[dict[str, Any]]) -> str:
    ns = columns(results)
    header = "| method | " + " | ".join(f"N = {n}" for n in ns) + " |"
    rule = "|---|" + "---:|" * len(ns)
    rows = accuracy_rows(results)
    lines = ["## Test accuracy (%), mean ± sd over label draws (draws)", "", header, rule]
    for name, by_n in rows.items():
        cells = [mean_sd([100 * r["accuracy"] for r in by_n[n]]) if by_n.get(n) else "" for n in ns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, figures in PUBLISHED.items():
        published = dict(zip(NUM_LABELLED, figures, strict=True))
        lines.append(f"| {name} | " + " | ".join(f"{published[n]:.2f}" if n in published else "" for n in ns) + " |")
    lines += ["", "## Training minutes, median over draws", "", header, rule]
    for name, by_n in rows.items():
        if "best validation ELBO" in name:
            continue  # the same runs as the last epoch's row
        cells = [f"{statistics.median(r['seconds'] for r in by_n[n]) / 60:.2f}" if by_n.get(n) else "" for n in ns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", *difference_table(results, 100)]
    lines += ["## Settings shared by every result of a method", "", *common_settings(results)]
    return "\n".join(lines) + "\n"


def difference_table(results: list[dict[str, Any]], num_labelled: int) -> list[str]:
    """M2 and M1+M2 (last epoch) minus the supervised-only classifier at ``num_labelled`` labels, per draw both
    ran; one table per row (setting), against the supervised results of the same data (``--unlabelled-limit``)."""
    varying = varying_settings(results)
    at_n = [r for r in results if r["n"] == num_labelled]
    lines = [f"## M2 and M1+M2 minus the same classifier on the labels alone, N = {num_labelled} (points)", ""]
    m2_rows: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for result in (r for r in at_n if r["method"] in ("m2", "m1_m2")):
        m2_rows[row_name(result, result["method"], varying)][result["draw"]] = result
    for name, m2_by_draw in m2_rows.items():
        limit = next(iter(m2_by_draw.values())).get("unlabelled_limit")
        supervised_at_n = (r for r in at_n if r["method"] == "supervised" and r.get("unlabelled_limit") == limit)
        alone = {r["draw"]: r for r in supervised_at_n}
        draws = sorted(m2_by_draw.keys() & alone.keys())
        if not draws:
            continue
        lines += [f"{name}:", "", "| draw | last epoch | supervised only | difference |", "|---:|---:|---:|---:|"]
        differences = []
        for draw in draws:
            m2, supervised = 100 * m2_by_draw[draw]["accuracy"], 100 * alone[draw]["accuracy"]
            differences.append(m2 - supervised)
            lines.append(f"| {draw} | {m2:.2f} | {supervised:.2f} | {m2 - supervised:+.2f} |")
        sd = statistics.stdev(differences) if len(differences) > 1 else 0.0
        lines += [f"| mean ± sd | | | {statistics.mean(differences):+.2f} ± {sd:.2f} |", ""]
    return lines if len(lines) > 2 else [*lines, "No draw has both results yet.", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run.py's results folder")
    parser.add_argument("--write", type=Path, default=None, help="also write the tables to this markdown file")
    args = parser.parse_args()
    results = read_results(args.out)
    if not results:
        raise SystemExit(f"no results in {args.out}: run bench/semi_supervised/run.py first")
    text = markdown(results)
    print(text, end="")
    if args.write is not None:
        atomic_write_text(args.write, text)


if __name__ == "__main__":
    main()
