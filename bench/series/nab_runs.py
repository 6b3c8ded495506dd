"""Per-point anomaly scores of one detector on NAB series, written as NAB results files.

Every detector runs causally, under one protocol (``vaelab.applications.series.detector``): a model learns
from the probationary period, is refitted every ``refit_every`` points on everything seen so far, and
scores each point from the window that ends at it; its raw scores become probabilities in [0, 1] through
its training scores. The detectors:

- ``vae:KEY=VALUE,...``: vaelab's window VAE (``WindowVAESettings`` fields, and ``refit_every``,
  ``mask_flagged``, ``adapt``, ``onset_span`` of ``DetectorSettings``; ``onset_span`` is 0, raw scores, unless
  given: ``onset_span=480`` writes what ``vaelab detect --series`` writes);
- ``windowed-gaussian``: NAB's windowed Gaussian, reimplemented (its own online protocol);
- ``isolation-forest:window=W`` and ``pca:window=W``: scikit-learn on the same sliding windows.

Writes ``OUT/<detector name>/<category>/<series>.csv`` (``timestamp,anomaly_score``, one row per input row)
and ``OUT/<detector name>/timings.json``; series already written are skipped, so a run can be resumed.

    .venv/bin/python bench/series/nab_runs.py --data-dir ../shared/data --out /tmp/nab \\
        --detector vae:network=donut,window=120 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vaelab.applications.series.baselines import IsolationForestBaseline, PCABaseline, windowed_gaussian_scores
from vaelab.applications.series.detector import DetectorSettings, WindowScorer, detect
from vaelab.applications.series.window_vae import WindowVAESettings
from vaelab.data.series import read_series_csv

SHARED_SERIES = ("realKnownCause/nyc_taxi.csv", "realKnownCause/machine_temperature_system_failure.csv")


def series_files(data_dir: Path) -> dict[str, Path]:
    """NAB key (``category/name.csv``) -> file: the two shared series and the corpus."""
    nab = data_dir / "nab"
    files = {key: nab / Path(key).name for key in SHARED_SERIES}
    files.update({f"{p.parent.name}/{p.name}": p for p in sorted((nab / "corpus").glob("*/*.csv"))})
    return files


def parse_detector(text: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value,...`` -> (name, options) with numbers read as numbers."""
    name, _, rest = text.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        options[key] = None if value == "none" else _number(value)
    return name, options


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


class _Baseline:
    """A scikit-learn window baseline in the shape the detector refits (``fit``, ``scores``)."""

    def __init__(self, kind: str, window: int) -> None:
        self.model = (
            IsolationForestBaseline(window=window) if kind == "isolation-forest" else PCABaseline(window=window)
        )

    def fit(self, values: np.ndarray) -> _Baseline:
        self.model.fit(_filled(values))
        return self

    def scores(self, values: np.ndarray, aggregation: str = "last", hidden: np.ndarray | None = None) -> np.ndarray:
        return self.model.score(_filled(values))


def _filled(values: np.ndarray) -> np.ndarray:
    """The baselines take no missing values: the last observed value carried forward (the NAB series here
    have none; the VAE masks them instead)."""
    return pd.DataFrame(values).ffill().bfill().to_numpy()


def run_one(detector: str, path: Path) -> tuple[np.ndarray, dict[str, float]]:
    """(R,) anomaly scores of the file's rows, and the seconds spent."""
    torch.set_num_threads(1)
    series = read_series_csv(path, time_order="file")
    name, options = parse_detector(detector)
    began = time.perf_counter()
    if name == "windowed-gaussian":
        scores = windowed_gaussian_scores(series.values[series.input_rows, 0].astype(np.float64))
        return scores, {"seconds": time.perf_counter() - began, "fits": 0}
    refit = options.pop("refit_every", 2000)
    mask_flagged, adapt = bool(options.pop("mask_flagged", 1)), bool(options.pop("adapt", 1))
    onset_span = int(options.pop("onset_span", 0))  # 0: raw scores, nab_score.py applies the onsets
    if name == "vae":
        model = WindowVAESettings(**options, threads=1)
        settings = DetectorSettings(
            model=model, refit_every=refit, mask_flagged=mask_flagged, adapt=adapt, onset_span=onset_span
        )
        result = detect(series.values, settings)
    else:
        window = int(options.get("window", 32))
        settings = DetectorSettings(
            model=WindowVAESettings(window=window), refit_every=refit, mask_flagged=False, adapt=False, onset_span=0
        )

        def make() -> WindowScorer:
            return _Baseline(name, window)

        result = detect(series.values, settings, make)
    timing = {"seconds": time.perf_counter() - began, "fits": result.fits, "fit_seconds": result.fit_seconds}
    return result.anomaly[series.input_rows], timing


def _work(detector: str, key: str, path: Path, out: Path) -> tuple[str, dict[str, float]]:
    scores, timing = run_one(detector, path)
    stamps = pd.read_csv(path, usecols=["timestamp"])["timestamp"]
    target = out / key
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    pd.DataFrame({"timestamp": stamps, "anomaly_score": scores}).to_csv(temporary, index=False)
    temporary.replace(target)
    return key, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--detector", required=True)
    parser.add_argument("--name", help="the output folder's name (default: the detector text)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="NAB keys to run (default: all)")
    args = parser.parse_args()

    out = args.out / (args.name or args.detector.replace(":", "_").replace(",", "_"))
    files = series_files(args.data_dir)
    todo = {k: p for k, p in files.items() if (not args.only or k in args.only) and not (out / k).exists()}
    timings_path = out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_work, args.detector, k, p, out) for k, p in todo.items()]
        for future in futures:
            key, timing = future.result()
            timings[key] = timing
            timings_path.write_text(json.dumps(timings, indent=1))
            print(f"{key}: {timing['seconds']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
