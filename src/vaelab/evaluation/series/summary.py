"""Labelled windows of one series and the metrics ``vaelab detect --series`` reports for them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vaelab.errors import UserError
from vaelab.evaluation.series import nab
from vaelab.evaluation.series.point_metrics import (
    best_point_adjusted_f1,
    best_point_f1,
    point_adjusted_f1,
    point_f1,
    roc_auc,
)


def label_segments(labels: np.ndarray) -> list[tuple[int, int]]:
    """(N,) 0/1 labels -> the inclusive index ranges of their runs of 1s."""
    padded = np.concatenate([[0], (labels > 0).astype(np.int8), [0]])
    edges = np.diff(padded)
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def windows_from_file(path: Path, series_file: Path, timestamps: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges of the windows in a JSON file: NAB's ``combined_windows.json`` (the entry whose key ends
    with the series' file name) or a list of ``[start, end]`` timestamps. A window must lie in the series."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"--windows {path}: cannot read it as JSON ({str(error).splitlines()[0]})") from None
    if isinstance(content, dict):
        keys = [k for k in content if Path(k).name == series_file.name]
        if len(keys) != 1:
            raise UserError(
                f"--windows {path}: no single entry whose key ends with {series_file.name!r} (found {len(keys)}); "
                "name the series' file in the key, as NAB does (category/name.csv)"
            )
        content = content[keys[0]]
    if not isinstance(content, list) or not all(isinstance(w, list) and len(w) == 2 for w in content):
        raise UserError(f"--windows {path}: expected a list of [start, end] timestamp pairs")
    stamps = pd.DatetimeIndex(timestamps)
    ranges = []
    for start_text, end_text in content:
        start, end = pd.Timestamp(start_text), pd.Timestamp(end_text)
        if start > end or start < stamps[0] or end > stamps[-1]:
            raise UserError(
                f"--windows {path}: the window [{start_text}, {end_text}] is not inside the series "
                f"({stamps[0]} to {stamps[-1]}); fix the window or give the matching series"
            )
        ranges.append((int(stamps.searchsorted(start, "left")), int(stamps.searchsorted(end, "right")) - 1))
    return ranges


def series_metrics(
    timestamps: np.ndarray, anomaly: np.ndarray, outlier: np.ndarray, windows: list[tuple[int, int]], scored_from: int
) -> dict[str, float]:
    """After ``scored_from``: NAB's three profiles of the flagged points on this series (normalised on it:
    0 never flags, 100 flags each window at its start), point-wise and point-adjusted F1 at the flags and at
    the best threshold, and ROC-AUC; labels are the points inside the windows."""
    labels = np.zeros(len(anomaly), dtype=int)
    for start, end in windows:
        labels[start : end + 1] = 1
    stamps = pd.DatetimeIndex(timestamps)
    bounds = [(stamps[s], stamps[e]) for s, e in windows]
    series = [nab.NabSeries(stamps, outlier.astype(float), bounds)]
    metrics = {
        f"NAB {profile}": nab.normalised_score(
            nab.score_series(stamps, outlier.astype(float), bounds, 0.5, profile, strict_timestamps=False).raw_score,
            series,
            profile,
            strict_timestamps=False,
        )
        for profile in nab.NAB_PROFILES
    }
    scores, truth, flags = anomaly[scored_from:], labels[scored_from:], outlier[scored_from:].astype(float)
    if truth.min() == truth.max():
        return metrics
    metrics["F1 at the flags"] = point_f1(flags, truth, 0.5).f1
    metrics["point-adjusted F1 at the flags"] = point_adjusted_f1(flags, truth, 0.5).f1
    metrics["best F1"] = best_point_f1(scores, truth).f1
    metrics["best point-adjusted F1"] = best_point_adjusted_f1(scores, truth).f1
    metrics["ROC-AUC"] = float(roc_auc(scores, truth) or float("nan"))
    return metrics
