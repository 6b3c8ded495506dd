"""Time to score a 20,000-point series with a trained window VAE in batch mode (the bar: under 10 s, median of
three), and the total time of causal mode on the same series, refits included.

The series is the first 20,000 points of NAB's machine_temperature_system_failure. Batch scoring is every
window's reconstruction probability (``num_samples`` posterior samples each) averaged over the windows
that cover each point; the model is trained once beforehand and not timed (the GRU models for 50 steps only:
their scoring time does not depend on how long they trained). The GRU models: one latent per window, and one
per step (``latents="step"``, 3 per step as OmniAnomaly's).

    .venv/bin/python bench/series/speed.py --data-dir ../shared/data --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from vaelab.applications.series.detector import DetectorSettings, detect
from vaelab.applications.series.window_vae import WindowVAE, WindowVAESettings
from vaelab.data.series import read_series_csv

POINTS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    threads = args.threads or torch.get_num_threads()

    path = args.data_dir / "nab" / "machine_temperature_system_failure.csv"
    values = read_series_csv(path, time_order="file").values[:POINTS]
    print(f"| network | trained on | batch scoring of {POINTS:,} points, median (s) | rounds (s) |")
    print("|---|---|---|---|")
    # the recurrent models train and score slowly on CPUs: 50 untimed training steps, one timed round
    models = (
        ("donut", WindowVAESettings(network="donut", steps=1500, threads=threads), args.rounds),
        ("gru", WindowVAESettings(network="gru", latents="window", steps=50, threads=threads), 1),
        (
            "gru, latents per step",
            WindowVAESettings(network="gru", latents="step", latent_dim=3, steps=50, threads=threads),
            1,
        ),
    )
    for network, settings, repeats in models:
        model = WindowVAE(settings).fit(values)
        rounds = []
        for _ in range(repeats):
            began = time.perf_counter()
            model.scores(values, "mean")
            rounds.append(time.perf_counter() - began)
        shown = ", ".join(f"{r:.2f}" for r in rounds)
        print(f"| {network} | all {POINTS:,} points | {statistics.median(rounds):.2f} | {shown} |", flush=True)

    settings = DetectorSettings(model=WindowVAESettings(network="donut", threads=threads))
    began = time.perf_counter()
    result = detect(values, settings)
    total = time.perf_counter() - began
    print(
        f"\ncausal mode, donut, {POINTS:,} points: {total:.1f} s in all, {result.fits} fits "
        f"({result.fit_seconds:.1f} s training, {result.score_seconds:.1f} s scoring and calibrating)"
    )


if __name__ == "__main__":
    main()
