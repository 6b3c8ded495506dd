"""Fit time on Adult at equal epochs: vaelab's TabularVAE against TVAE (ctgan), side by side in one run.

    bench/synthetic/.venv/bin/python bench/synthetic/speed.py --epochs 30 --repeats 3

Each repeat fits both on all of adult.data for ``--epochs`` epochs (batch 500 each, both libraries' default),
alternating which goes first, with two torch threads; the table gives the median fit time of each, the seconds
per epoch and the ratio. TVAE's time includes its data transformer (a Bayesian Gaussian mixture per numeric
column), vaelab's the column codec and its held-out comparison with the marginals: each library's whole ``fit``.
Run it alone on the machine: timings of a busy machine are not comparable.

Each fit runs in a process of its own (this script with ``--one METHOD``), so no fit inherits another's threads,
memory or floating-point mode. The third row, "TVAE, subnormals flushed", is TVAE with
``torch.set_flush_denormal(True)`` set before its ``fit``: on this machine TVAE's later epochs slow down as
subnormal floats appear (Adam's second moments of rarely used weights decay into that range, where x86
arithmetic is many times slower), and that row shows what TVAE takes without them. Neither library flushes
them as shipped. ``--skip-flushed-tvae`` leaves the row out.
"""

from __future__ import annotations

import argparse
import subprocess
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
    if method in ("tvae", "tvae-flushed"):
        from ctgan import TVAE

        model = TVAE(epochs=epochs)
        model.set_random_state(seed)
        torch.set_flush_denormal(method == "tvae-flushed")  # before any worker thread exists: they inherit it
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
    parser.add_argument("--skip-flushed-tvae", action="store_true")
    parser.add_argument("--one", help="fit this method once in this process and print its seconds (internal)")
    parser.add_argument("--seed", type=int, default=0, help="with --one")
    args = parser.parse_args()
    if args.one:
        print(fit_seconds(args.one, args.epochs, args.seed))
        return
    methods = ["vaelab", "tvae"] + ([] if args.skip_flushed_tvae else ["tvae-flushed"])
    times: dict[str, list[float]] = {method: [] for method in methods}
    for repeat in range(args.repeats):
        order = methods[repeat % len(methods) :] + methods[: repeat % len(methods)]  # each method first in turn
        for method in order:
            one = [sys.executable, __file__, "--one", method, "--epochs", str(args.epochs), "--seed", str(repeat)]
            seconds = float(subprocess.run(one, check=True, capture_output=True, text=True).stdout.split()[-1])
            times[method].append(seconds)
            print(f"repeat {repeat}: {method} {seconds:.1f} s", flush=True)
    names = {"vaelab": "vaelab TabularVAE", "tvae": "TVAE (ctgan)", "tvae-flushed": "TVAE, subnormals flushed"}
    medians = {method: float(np.median(seconds)) for method, seconds in times.items()}
    print(f"\n| method | fit s, median of {args.repeats} ({args.epochs} epochs) | s per epoch | vaelab / method |")
    print("|---|---|---|---|")
    for method, median in medians.items():
        print(f"| {names[method]} | {median:.1f} | {median / args.epochs:.2f} | {medians['vaelab'] / median:.2f} |")


if __name__ == "__main__":
    main()
