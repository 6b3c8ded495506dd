"""Score the synthetic Adult tables written by run.py, side by side, and check the conditional rows.

    .venv/bin/python bench/synthetic/score.py --out /work/runs/synth

Every ``OUT/<method>/seed<k>.csv`` is scored against adult.data (the training rows) and adult.test (the real
held-out rows) by ``vaelab.evaluation.synthetic.quality_report``: column shapes, column-pair trends (all pairs,
and the pairs related in the real table, as SDMetrics >= 0.27 averages), SDGym's ML efficacy (binary F1 of
``>50K``, mean of four classifiers) and the distance to the closest training record. The table gives, per method,
the mean and standard deviation over its seeds and the median fit time; a second table gives the efficacy
F1 of each classifier. ``vaelab-cond`` rows (sampled with
income = ">50K"; ``vaelab-<settings>-cond`` likewise) are checked for the condition and scored against the
real ``>50K`` rows, next to the unconditional rows of the same seed against all real rows. Scores are cached in
``OUT/<method>/seed<k>.score.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from adult import CATEGORICAL, POSITIVE, TARGET, data_dir, read_adult
from run import CONDITIONS

from vaelab.evaluation.synthetic.report import quality_report
from vaelab.evaluation.synthetic.shapes import column_shapes

ORDER = ("real", "vaelab", "vaelab-log-frequency", "tvae", "copula")
FIGURES = (
    ("ml_efficacy_f1", "ML efficacy F1"),
    ("column_shapes", "shapes"),
    ("column_pair_trends", "trends (all pairs)"),
    ("column_pair_trends_related", "trends (related pairs)"),
    ("dcr_synthetic_p5", "DCR p5"),
    ("dcr_synthetic_median", "DCR median"),
    ("exact_copies", "exact copies"),
)


def read_synthetic(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={name: str for name in CATEGORICAL}, keep_default_na=False)
    return frame


def score(path: Path, train: pd.DataFrame, test: pd.DataFrame, seed: int) -> dict[str, Any]:
    cached = path.with_suffix(".score.json")
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    report = quality_report(train, test, read_synthetic(path), CATEGORICAL, TARGET, POSITIVE, random_state=seed)
    report["ml_efficacy_by_classifier"] = report.pop("details")["ml_efficacy"]  # {"synthetic": {...}, "real": {...}}
    cached.write_text(json.dumps(report, indent=2))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/synth"))
    parser.add_argument("--data-dir", type=Path, default=data_dir())
    args = parser.parse_args()
    train, test = read_adult(args.data_dir / "adult.data"), read_adult(args.data_dir / "adult.test")
    rows: dict[str, list[dict[str, Any]]] = {}
    for method in methods(args.out):
        for path in sorted((args.out / method).glob("seed*.csv")):
            seed = int(path.stem.removeprefix("seed"))
            record = json.loads(path.with_suffix(".json").read_text())
            rows.setdefault(method, []).append({**score(path, train, test, seed), "fit_seconds": record["fit_seconds"]})
    holdout = quality_report(train, test, test, CATEGORICAL)  # the real held-out rows' own distances
    print(f"Adult: {len(train)} training rows, {len(test)} held-out rows (adult.test)")
    header = "| method | seeds | " + " | ".join(label for _, label in FIGURES) + " | fit s (median) |"
    print(header)
    print("|" + "---|" * (len(FIGURES) + 3))
    for method, records in rows.items():
        cells = []
        for key, _ in FIGURES:
            values = np.array([r[key] for r in records], dtype=float)
            cells.append(f"{values.mean():.3f} ± {values.std():.3f}" if len(values) > 1 else f"{values.mean():.3f}")
        fit = np.median([r["fit_seconds"] for r in records])
        print(f"| {method} | {len(records)} | " + " | ".join(cells) + f" | {fit:.0f} |")
    print(
        f"| real held-out rows (adult.test) | – | – | – | – | – | {holdout['dcr_holdout_p5']:.3f} | "
        f"{holdout['dcr_holdout_median']:.3f} | {holdout['exact_copies_holdout']:.3f} | – |"
    )
    efficacy_by_classifier(rows)
    for method in rows:
        conditional(args.out, method, train)


def efficacy_by_classifier(rows: dict[str, list[dict[str, Any]]]) -> None:
    """The ML-efficacy F1 of each of SDGym's classifiers, per method (mean ± standard deviation over its seeds),
    with the classifiers fitted on the real training rows as the last row."""
    scored = {
        m: [r["ml_efficacy_by_classifier"] for r in records if "ml_efficacy_by_classifier" in r]
        for m, records in rows.items()
    }
    scored = {m: found for m, found in scored.items() if found}
    if not scored:
        return
    names = list(next(iter(scored.values()))[0]["synthetic"])
    print("\nML efficacy F1 by classifier (fitted on the synthetic rows, tested on adult.test)")
    print("| method | " + " | ".join(names) + " |")
    print("|" + "---|" * (len(names) + 1))
    for method, found in scored.items():
        cells = [np.array([f["synthetic"][name] for f in found]) for name in names]
        print(f"| {method} | " + " | ".join(f"{c.mean():.3f} ± {c.std():.3f}" for c in cells) + " |")
    real = next(iter(scored.values()))[0]["real"]
    print("| real training rows | " + " | ".join(f"{real[name]:.3f}" for name in names) + " |")


def methods(out: Path) -> list[str]:
    """The method folders in ``out`` holding unconditional tables (those with a run record, which the conditional
    folders lack): those of ``ORDER`` first, in its order, then the other vaelab settings (``vaelab-...``) by name."""
    found = {path.parent.name for path in out.glob("*/seed*.json")}
    return [m for m in ORDER if m in found] + sorted(found - set(ORDER))


def holding(frame: pd.DataFrame, conditions: dict[str, str]) -> np.ndarray:
    """``(N,)`` whether each row of ``frame`` holds every value of ``conditions``."""
    return np.logical_and.reduce([frame[name] == value for name, value in conditions.items()])


def conditional(out: Path, method: str, train: pd.DataFrame) -> None:
    """For each of run.py's ``CONDITIONS``, the rows sampled with it: the share that holds it, and their column
    shapes against the real rows that hold it, next to the unconditional rows' shapes against all real rows (same
    seed), over the columns not conditioned on."""
    for suffix, conditions in CONDITIONS.items():
        paths = sorted((out / f"{method}-{suffix}").glob("seed*.csv"))
        if not paths:
            continue
        given = list(conditions)
        real = train[holding(train, conditions)].drop(columns=given)
        others = [c for c in CATEGORICAL if c not in conditions]
        text = ", ".join(f"{name} = {value}" for name, value in conditions.items())
        print(f"\n{method}: conditional synthesis, {text} ({len(real)} real rows hold it)")
        print("| seed | rows holding it | shapes vs the real rows holding it | unconditional shapes | difference |")
        print("|---|---|---|---|---|")
        for path in paths:
            rows = read_synthetic(path)
            unconditional = read_synthetic(out / method / path.name)
            kept = holding(rows, conditions).mean()
            conditioned = column_shapes(real, rows.drop(columns=given), others).mean
            plain = column_shapes(train.drop(columns=given), unconditional.drop(columns=given), others).mean
            print(f"| {path.stem} | {kept:.3f} | {conditioned:.3f} | {plain:.3f} | {conditioned - plain:+.3f} |")


if __name__ == "__main__":
    main()
