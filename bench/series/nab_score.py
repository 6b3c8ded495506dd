"""NAB scores of every detector's outputs, side by side: vaelab's runs (``nab_runs.py``), our reimplementation
of the windowed Gaussian and the window baselines, and NAB's own detectors' published outputs
(``../shared/data/nab/results`` for the two shared series, ``corpus-results`` for 53 more), all scored by
``vaelab.evaluation.series.nab``.

- Thresholds: each detector's per-profile threshold is optimised over the whole corpus scored (the 55
  series here; never over the two reported series alone); the detectors whose outputs exist for the two
  shared series only (ARTime, knncad, ...) keep NAB's thresholds from ``results/thresholds.json``
  (optimised by NAB over its 58 series).
- Normalised score: 100 (raw - null) / (perfect - null) over the same series for every detector.
- Also per series: point-wise F1 and point-adjusted F1 at the best threshold and at vaelab's POT threshold
  (anomaly score >= 1 - risk), and per-point ROC-AUC, each after the probationary period, labels = inside
  a NAB window.
- ``--onset-span S``: every detector is also shown with its scores kept at onsets only
  (``vaelab.applications.series.detector.onsets``: a score that tops the S scores before it).
- ``--shared-only``: the two shared series alone, for runs made on them only (``nab_runs.py --only``: the
  recurrent models, too slow to run on the corpus here). No threshold can then be optimised over a corpus, so
  each detector is scored at a threshold not chosen on these series: vaelab's runs at their own POT flags
  (anomaly score >= 1 - risk), NAB's detectors at NAB's thresholds (``results/thresholds.json``).
  ``--series KEY ...`` scores those NAB keys the same way instead (NAB's detectors that have outputs for all).
- ``--select``: leave-one-category-out choice among the vaelab runs named, each with every span of
  ``--select-spans``: for each category, the candidate with the best standard score on the other
  categories (threshold optimised there) scores the held-out category at that threshold; the held-out raw
  scores are summed and normalised over the corpus.

    .venv/bin/python bench/series/nab_score.py --data-dir ../shared/data --runs /work/runs/nab
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from nab_runs import SHARED_SERIES, series_files

from vaelab.applications.series.detector import onsets
from vaelab.evaluation.series import nab
from vaelab.evaluation.series.point_metrics import (
    best_point_adjusted_f1,
    best_point_f1,
    point_adjusted_f1,
    point_f1,
    roc_auc,
)

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
CORPUS_DETECTORS = ("numenta", "randomCutForest", "windowedGaussian")
SHARED_ONLY_DETECTORS = ("ARTime", "knncad", "twitterADVec", "random", "null")
POT_RISK = 1e-3


@dataclass(frozen=True)
class Outputs:
    """One detector's anomaly scores per NAB key; ``thresholds`` per profile when fixed by NAB."""

    name: str
    scores: dict[str, np.ndarray]
    thresholds: dict[str, float] | None = None
    has_pot: bool = False


def _read_scores(path: Path) -> np.ndarray:
    return pd.read_csv(path, usecols=["anomaly_score"])["anomaly_score"].to_numpy(dtype=float)


def published_outputs(data_dir: Path, all_fixed: bool = False) -> list[Outputs]:
    """NAB's detectors' outputs; the thresholds of NAB's own scoring run kept for the detectors without corpus
    outputs here, or for all of them (``all_fixed``)."""
    nab_dir = data_dir / "nab"
    thresholds = json.loads((nab_dir / "results" / "thresholds.json").read_text())
    found = []
    for detector in (*CORPUS_DETECTORS, *SHARED_ONLY_DETECTORS):
        scores = {}
        for key in SHARED_SERIES:
            scores[key] = _read_scores(nab_dir / "results" / detector / f"{detector}_{Path(key).name}")
        for path in sorted((nab_dir / "corpus-results" / detector).glob("*/*.csv")):
            scores[f"{path.parent.name}/{path.name.removeprefix(detector + '_')}"] = _read_scores(path)
        fixed = None
        if detector in SHARED_ONLY_DETECTORS or all_fixed:
            fixed = {profile: thresholds[detector][profile]["threshold"] for profile in PROFILES}
        found.append(Outputs(f"NAB {detector}", scores, fixed))
    return found


def run_outputs(runs: Path, keys: list[str]) -> list[Outputs]:
    found = []
    for folder in sorted(p for p in runs.iterdir() if p.is_dir()):
        scores = {k: _read_scores(folder / k) for k in keys if (folder / k).exists()}
        if len(scores) == len(keys):
            found.append(Outputs(folder.name, scores, has_pot=True))
    return found


def at_onsets(outputs: Outputs, span: int) -> Outputs:
    """The same detector with its scores kept at onsets only (span 0: itself)."""
    if span == 0:
        return outputs
    scores = {k: onsets(v, span) for k, v in outputs.scores.items()}
    return Outputs(f"{outputs.name} + onsets {span}", scores, outputs.thresholds, outputs.has_pot)


def corpus_of(outputs: Outputs, keys: list[str], stamps: dict[str, pd.DatetimeIndex], windows: dict) -> list:
    return [nab.NabSeries(stamps[k], outputs.scores[k], windows[k]) for k in keys]


def normalised(outputs: Outputs, keys: list[str], stamps, windows, profile: str, threshold: float) -> float:
    corpus = corpus_of(outputs, keys, stamps, windows)
    raw = sum(s.raw_score for s in nab.score_corpus(corpus, threshold, profile, strict_timestamps=False))
    return nab.normalised_score(raw, corpus, profile, strict_timestamps=False)


def corpus_threshold(outputs: Outputs, keys: list[str], stamps, windows, profile: str) -> float:
    if outputs.thresholds is not None:
        return outputs.thresholds[profile]
    corpus = corpus_of(outputs, keys, stamps, windows)
    return nab.optimise_threshold(corpus, profile, strict_timestamps=False).threshold


def labels_of(stamps: pd.DatetimeIndex, windows: list) -> np.ndarray:
    labels = np.zeros(len(stamps), dtype=int)
    for start, end in windows:
        labels[(stamps >= pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))] = 1
    return labels


def point_rows(outputs: Outputs, keys: list[str], stamps, windows) -> dict[str, float]:
    """Means over ``keys`` of the point metrics after each probationary period (series with labels only)."""
    rows: dict[str, list[float]] = {"F1": [], "PA-F1": [], "F1@POT": [], "PA-F1@POT": [], "AUC": []}
    for key in keys:
        labels = labels_of(stamps[key], windows[key])
        start = nab.probationary_length(len(labels))
        scores, labels = outputs.scores[key][start:], labels[start:]
        if labels.sum() == 0:
            continue
        rows["F1"].append(best_point_f1(scores, labels).f1)
        rows["PA-F1"].append(best_point_adjusted_f1(scores, labels).f1)
        if outputs.has_pot:
            rows["F1@POT"].append(point_f1(scores, labels, 1 - POT_RISK).f1)
            rows["PA-F1@POT"].append(point_adjusted_f1(scores, labels, 1 - POT_RISK).f1)
        auc = roc_auc(scores, labels)
        rows["AUC"].append(np.nan if auc is None else auc)
    return {name: float(np.nanmean(v)) if v else float("nan") for name, v in rows.items()}


def leave_category_out(runs: list[Outputs], keys: list[str], stamps, windows) -> tuple[float, dict[str, str]]:
    """The cross-validated standard score of choosing among ``runs`` by the other categories."""
    categories = sorted({k.split("/")[0] for k in keys})
    raw, chosen = 0.0, {}
    for category in categories:
        held, rest = [k for k in keys if k.startswith(category)], [k for k in keys if not k.startswith(category)]
        best = max(
            runs,
            key=lambda r: (
                nab.optimise_threshold(
                    corpus_of(r, rest, stamps, windows), "standard", strict_timestamps=False
                ).raw_score
            ),
        )
        threshold = corpus_threshold(best, rest, stamps, windows, "standard")
        held_corpus = corpus_of(best, held, stamps, windows)
        raw += sum(s.raw_score for s in nab.score_corpus(held_corpus, threshold, "standard", strict_timestamps=False))
        chosen[category] = best.name
    corpus = corpus_of(runs[0], keys, stamps, windows)
    return nab.normalised_score(raw, corpus, "standard", strict_timestamps=False), chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--select", nargs="*", default=[], help="vaelab run folders to choose among")
    parser.add_argument("--select-spans", nargs="*", type=int, default=[0, 60, 120, 480])
    parser.add_argument("--onset-span", type=int, default=120)
    parser.add_argument("--shared-only", action="store_true", help="the two shared series alone (docstring)")
    parser.add_argument("--series", nargs="*", help="with --shared-only: these NAB keys instead (docstring)")
    args = parser.parse_args()
    if args.shared_only:
        shared_only(args.data_dir, args.runs, args.onset_span, args.series or list(SHARED_SERIES))
        return

    files = series_files(args.data_dir)
    keys = list(files)
    windows = nab.nab_windows(args.data_dir / "nab" / "combined_windows.json")
    stamps = {k: pd.DatetimeIndex(pd.read_csv(p, usecols=["timestamp"])["timestamp"]) for k, p in files.items()}
    found = [*run_outputs(args.runs, keys), *published_outputs(args.data_dir)]
    every = [v for o in found for v in ((o,) if o.thresholds else (o, at_onsets(o, args.onset_span)))]
    shared = list(SHARED_SERIES)

    print("## The two shared series (thresholds optimised over the 55-series corpus)\n")
    print("| detector | standard | low FP | low FN | F1 | PA-F1 | F1@POT | PA-F1@POT | ROC-AUC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for outputs in every:
        on_corpus = [k for k in keys if k in outputs.scores]
        scores = [
            normalised(outputs, shared, stamps, windows, p, corpus_threshold(outputs, on_corpus, stamps, windows, p))
            for p in PROFILES
        ]
        points = point_rows(outputs, shared, stamps, windows)
        print(f"| {outputs.name} | " + " | ".join(f"{s:.1f}" for s in scores) + " | "
              + " | ".join(f"{v:.3f}" for v in points.values()) + " |")  # fmt: skip

    print("\n## The whole corpus (55 series)\n")
    print("| detector | standard | low FP | low FN | F1 | PA-F1 | ROC-AUC |")
    print("|---|---|---|---|---|---|---|")
    for outputs in every:
        if outputs.thresholds is not None:
            continue
        scores = [
            normalised(outputs, keys, stamps, windows, p, corpus_threshold(outputs, keys, stamps, windows, p))
            for p in PROFILES
        ]
        points = point_rows(outputs, keys, stamps, windows)
        print(f"| {outputs.name} | " + " | ".join(f"{s:.1f}" for s in scores)
              + f" | {points['F1']:.3f} | {points['PA-F1']:.3f} | {points['AUC']:.3f} |")  # fmt: skip

    if args.select:
        chosen_runs = [at_onsets(o, span) for o in found if o.name in args.select for span in args.select_spans]
        score, chosen = leave_category_out(chosen_runs, keys, stamps, windows)
        print(f"\n## Leave-one-category-out choice among {', '.join(args.select)}\n")
        print(f"cross-validated standard score: {score:.1f}\n")
        for category, name in chosen.items():
            print(f"- held out {category}: chose {name}")


def shared_only(data_dir: Path, runs: Path, onset_span: int, shared: list[str]) -> None:
    """The series ``shared`` alone, each detector at a threshold not chosen on them: vaelab's runs that cover
    them at their POT flags, NAB's detectors with outputs for all of them at NAB's thresholds."""
    files = series_files(data_dir)
    windows = nab.nab_windows(data_dir / "nab" / "combined_windows.json")
    stamps = {k: pd.DatetimeIndex(pd.read_csv(files[k], usecols=["timestamp"])["timestamp"]) for k in shared}
    pot = dict.fromkeys(PROFILES, 1 - POT_RISK)
    ours = [dataclasses.replace(o, thresholds=pot) for o in run_outputs(runs, shared)]
    published = [o for o in published_outputs(data_dir, all_fixed=True) if all(k in o.scores for k in shared)]
    found = [v for o in ours for v in (o, at_onsets(o, onset_span))] + published
    named = "The two shared series" if shared == list(SHARED_SERIES) else f"{len(shared)} series"
    print(f"## {named}, each detector at a threshold not chosen on them\n")
    print("| detector | standard | low FP | low FN | F1 | PA-F1 | F1@POT | PA-F1@POT | ROC-AUC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for outputs in found:
        assert outputs.thresholds is not None
        scores = [normalised(outputs, shared, stamps, windows, p, outputs.thresholds[p]) for p in PROFILES]
        points = point_rows(outputs, shared, stamps, windows)
        print(f"| {outputs.name} | " + " | ".join(f"{s:.1f}" for s in scores) + " | "
              + " | ".join(f"{v:.3f}" for v in points.values()) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
