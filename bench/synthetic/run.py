"""Resumable runner of the synthetic-table benchmark on UCI Adult: fit a method, time it, sample a table.

    bench/synthetic/.venv/bin/python bench/synthetic/run.py --method tvae --seeds 0 1 2 3 4 --out /work/runs/synth

For each seed it fits the method on adult.data (every row; ``--rows N`` fits on a seeded subsample of N rows, for
smoke tests), samples as many rows as it was fitted on, and writes ``OUT/<method>/seed<k>.csv`` and
``OUT/<method>/seed<k>.json`` ({"fit_seconds", "sample_seconds", "epochs", "rows", "method", "seed", "versions",
...}). A seed whose two files exist is skipped, so an interrupted run resumes. Scoring happens elsewhere
(``vaelab.evaluation.synthetic``).

Methods: ``vaelab`` (``vaelab.TabularVAE``), ``tvae`` (``ctgan.TVAE`` at its defaults, 300 epochs unless
``--epochs``), ``copula`` (copula.py), ``real`` (the training table itself: the reference row, fit time 0).
``--method vaelab`` also samples ``conditions={"income": ">50K"}`` from the same fit into ``OUT/vaelab-cond/``, and
``conditions={"income": ">50K", "sex": "Female"}`` into ``OUT/vaelab-cond2/``;
``--sampling uniform`` fits it without training-by-sampling instead, into ``OUT/vaelab-uniform/`` and
``OUT/vaelab-uniform-cond/``; ``--setting latent_dim=64`` (repeatable) sets any other ``TabularVAE``
argument, into ``OUT/vaelab-latent_dim=64/``; ``--temperatures 0.5 0`` also samples each vaelab fit at those
sampling temperatures, into ``OUT/vaelab-t0.5/`` and ``OUT/vaelab-t0/``, and ``--chain-steps 1 3`` after that many
steps of the encoder-decoder chain, into ``OUT/vaelab-c1/`` and ``OUT/vaelab-c3/`` (both: ``OUT/vaelab-t0.5-c1/``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from adult import CATEGORICAL, POSITIVE, TARGET, data_dir, read_adult

METHODS = ("vaelab", "tvae", "copula", "real")
THREADS = 2  # the machine's cores: the default of --threads
# vaelab's conditional samples from each fit, by output folder suffix: one column, and two at once
CONDITIONS = {"cond": {TARGET: POSITIVE}, "cond2": {TARGET: POSITIVE, "sex": "Female"}}


def fit_and_sample(
    method: str,
    train: pd.DataFrame,
    seed: int,
    epochs: int | None,
    settings: dict[str, Any] | None = None,
    samplings: Sequence[dict[str, Any]] = (),
    threads: int = THREADS,
):
    """Fit ``method`` on ``train`` and sample ``len(train)`` rows; returns (table, fit_s, sample_s, epochs), where
    vaelab's table is a triple: the unconditional rows, the rows sampled with each of ``CONDITIONS`` (by suffix),
    and one more unconditional table per item of ``samplings`` (``TabularVAE.sample`` arguments), in their order.
    ``settings``: further ``TabularVAE`` arguments; ``threads``: torch threads of the fit."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    n = len(train)
    if method == "real":
        return train, 0.0, 0.0, None
    if method == "tvae":
        from ctgan import TVAE

        model = TVAE() if epochs is None else TVAE(epochs=epochs)
        model.set_random_state(seed)  # ctgan seeds numpy and torch inside fit() and sample() from this
        start = time.perf_counter()
        model.fit(train, discrete_columns=CATEGORICAL)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synth = model.sample(n)
        return synth, fit_s, time.perf_counter() - start, model.epochs
    if method == "copula":
        from copula import GaussianCopula

        start = time.perf_counter()
        model = GaussianCopula().fit(train, CATEGORICAL, random_state=seed)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synth = model.sample(n, random_state=seed)
        return synth, fit_s, time.perf_counter() - start, None
    if method == "vaelab":
        from vaelab import TabularVAE

        model = TabularVAE(random_state=seed, threads=threads, epochs=epochs, **(settings or {}))
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synth = model.sample(n, random_state=seed)
        sample_s = time.perf_counter() - start
        conditioned = {suffix: model.sample(n, conditions=c, random_state=seed) for suffix, c in CONDITIONS.items()}
        resampled = [model.sample(n, random_state=seed, **sampling) for sampling in samplings]
        return (synth, conditioned, resampled), fit_s, sample_s, model.settings.epochs
    raise ValueError(f"unknown method {method!r}")


def versions(method: str) -> dict[str, str]:
    """Versions of Python and of the packages that shape the result, plus vaelab's git commit."""
    found = {"python": platform.python_version()}
    extra = {"tvae": ["ctgan", "rdt"], "vaelab": ["vaelab"]}.get(method, [])
    names = ["torch", "numpy", "pandas", "scipy", *extra]
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    repo = Path(__file__).resolve().parents[2]
    git = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    found["vaelab_commit"] = git.stdout.strip() or "unknown"
    return found


def write_table(table: pd.DataFrame, csv_path: Path) -> None:
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = csv_path.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, csv_path)


def vaelab_settings(sampling: str | None, settings: list[str]) -> dict[str, Any]:
    """``TabularVAE`` arguments from ``--sampling`` and the ``--setting NAME=VALUE`` items, read as
    ``choose_defaults.py`` reads a variant's settings."""
    parsed: dict[str, Any] = {} if sampling is None else {"sampling": sampling}
    if settings:
        from choose_defaults import parse_variant  # imports vaelab: only runs with settings need it

        parsed.update(parse_variant("vaelab:" + ",".join(settings))[1])
    return parsed


def default_sampling() -> str:
    """TabularVAE's default ``sampling`` (imports vaelab: only vaelab runs call it)."""
    from vaelab.applications.synthetic.tabular_vae import TabularSettings

    return TabularSettings().sampling


def folder_name(method: str, settings: dict[str, Any]) -> str:
    """The method's output folder: its name, and for vaelab each setting that is not the default."""
    if method != "vaelab" or not settings:
        return method
    parts = [str(value) if name == "sampling" else f"{name}={value}" for name, value in settings.items()]
    return "vaelab-" + "-".join(parts)


def run_seed(args: argparse.Namespace, full: pd.DataFrame, seed: int) -> None:
    """One seed: skip it if done, else fit, sample and write the CSV(s), then the JSON (written last = done)."""
    settings = vaelab_settings(args.sampling, args.setting)
    name = folder_name(args.method, settings)
    folder = args.out / name
    csv_path, json_path = folder / f"seed{seed}.csv", folder / f"seed{seed}.json"
    if csv_path.exists() and json_path.exists():
        print(f"{args.method} seed {seed}: done already, skipped", flush=True)
        return
    train = full if args.rows is None else full.sample(n=args.rows, random_state=seed).reset_index(drop=True)
    print(f"{args.method} seed {seed}: fitting on {len(train)} rows", flush=True)
    found_versions = versions(args.method)  # before the fit: the repository's HEAD may move during a long run
    samplings: list[dict[str, Any]] = []
    suffixes: list[str] = []
    if args.temperatures or args.chain_steps:
        from choose_defaults import samplings_of, variant_names

        samplings = samplings_of(args.temperatures, args.chain_steps)
        suffixes = variant_names("", samplings)
    synth, fit_s, sample_s, epochs = fit_and_sample(
        args.method, train, seed, args.epochs, settings, samplings, args.threads
    )
    resampled: list[pd.DataFrame] = []
    if args.method == "vaelab":
        synth, conditioned, resampled = synth
        for suffix, table in conditioned.items():
            write_table(table, args.out / f"{name}-{suffix}" / f"seed{seed}.csv")
    record = {
        "method": args.method,
        "sampling": (args.sampling or default_sampling()) if args.method == "vaelab" else None,
        "settings": settings if args.method == "vaelab" else None,
        "seed": seed,
        "fit_seconds": round(fit_s, 3),
        "sample_seconds": round(sample_s, 3),
        "epochs": epochs,
        "rows": len(train),
        "sampled_rows": len(synth),
        "conditions_sampled": CONDITIONS if args.method == "vaelab" else None,
        "data": str(args.data),
        "torch_threads": args.threads,
        "machine_busy": args.busy,
        "versions": found_versions,
    }
    for sampling, suffix, table in zip(samplings, suffixes, resampled, strict=True):  # the same fit: own folder
        other = args.out / f"{name}{suffix}"
        write_table(table, other / f"seed{seed}.csv")
        (other / f"seed{seed}.json").write_text(json.dumps({**record, **sampling}, indent=2) + "\n")
    write_table(pd.DataFrame(synth), csv_path)
    json_path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{args.method} seed {seed}: fit {fit_s:.1f} s, sample {sample_s:.1f} s -> {csv_path}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=METHODS, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, help="training epochs (default: the method's own default)")
    parser.add_argument("--rows", type=int, help="fit on a seeded subsample of this many rows (smoke tests)")
    parser.add_argument("--sampling", help="vaelab: TabularVAE's training rows (sampling=; default: its default)")
    parser.add_argument(
        "--temperatures",
        type=float,
        nargs="*",
        default=[],
        help="vaelab: also sample the same fit at these temperatures, into OUT/<folder>-tTAU/",
    )
    parser.add_argument(
        "--chain-steps",
        type=int,
        nargs="*",
        default=[],
        help="vaelab: also sample the same fit after these numbers of chain steps, into OUT/<folder>-cK/",
    )
    parser.add_argument("--setting", action="append", default=[], help="vaelab: NAME=VALUE, a TabularVAE argument")
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads per fit (default: 2)")
    parser.add_argument("--busy", action="store_true", help="record that other jobs shared the machine (timings)")
    parser.add_argument("--data", type=Path, default=data_dir() / "adult.data", help="adult.data")
    args = parser.parse_args(argv)
    full = read_adult(args.data)
    for seed in args.seeds:
        run_seed(args, full, seed)


if __name__ == "__main__":
    main()
