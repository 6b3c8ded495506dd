"""Fit time on Adult at equal epochs: vaelab's TabularVAE against TVAE (ctgan), side by side in one run.

    bench/synthetic/.venv/bin/python bench/synthetic/speed.py --epochs 30 --repeats 3

Each repeat fits both on all of adult.data for ``--epochs`` epochs (batch 500 each, both libraries' default),
alternating which goes first, with two torch threads; the table gives the median fit time of each, the seconds
per epoch and the ratio. TVAE's time includes its data transformer (a Bayesian Gaussian mixture per numeric
column), vaelab's the column codec and its held-out comparison with the marginals: each library's whole ``fit``.
Run it alone on the machine: timings of a busy machine are not comparable.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from adult import CATEGORICAL, data_dir, read_adult


def fit_seconds(method: str, epochs: int, seed: int) -> float:
    train = read_adult(data_dir() / "adult.data")
    torch.set_num_threads(2)
    start = time.perf_counter()
    if method == "tvae":
        from ctgan import TVAE

        model = TVAE(epochs=epochs)
        model.set_random_state(seed)
        model.fit(train, discrete_columns=CATEGORICAL)
    else:
        from vaelab import TabularVAE

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TabularVAE(epochs=epochs, random_state=seed, threads=2).fit(train)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"vaelab": [], "tvae": []}
    for repeat in range(args.repeats):
        order = ("vaelab", "tvae") if repeat % 2 == 0 else ("tvae", "vaelab")
        for method in order:
            seconds = fit_seconds(method, args.epochs, repeat)
            times[method].append(seconds)
            print(f"repeat {repeat}: {method} {seconds:.1f} s", flush=True)
    vaelab, tvae = np.median(times["vaelab"]), np.median(times["tvae"])
    print(f"\n| method | fit s, median of {args.repeats} ({args.epochs} epochs) | s per epoch |")
    print("|---|---|---|")
    print(f"| vaelab TabularVAE | {vaelab:.1f} | {vaelab / args.epochs:.2f} |")
    print(f"| TVAE (ctgan) | {tvae:.1f} | {tvae / args.epochs:.2f} |")
    print(f"\nvaelab / TVAE fit time: {vaelab / tvae:.2f}")


if __name__ == "__main__":
    main()
