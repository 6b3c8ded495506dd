"""Choose TabularVAE's defaults on tables other than the one the benchmark reports (Adult): the ADBench tables.

    .venv/bin/python bench/synthetic/choose_defaults.py --data-dir ../shared/data --out /work/runs/synth-defaults \
        --variant gaussian:continuous=gaussian --variant mixture:continuous=mixture --seeds 0 1

For each ADBench table (every column numeric; whole-number columns stay whole, 0/1 columns binary) and seed: a
seeded 80/20 split, a TabularVAE fitted on the 80 % with the variant's settings (at most ``--max-rows`` training
rows, a seeded subsample), as many synthetic rows as training rows, and the column-shape and column-pair-trend
scores of the synthetic rows against the training rows (SDMetrics' definitions, ``vaelab.evaluation.synthetic``),
plus the held-out bound per row and that of per-column marginals. One JSON per (variant, table, seed) in OUT,
skipped when it exists (resumable); At the end it prints the per-variant means over the tables that every variant has
finished and the number of (table, seed) pairs each variant wins on shapes + trends.

With ``--efficacy`` the table's anomaly flag joins it as a column, ``label``, and each record also holds SDGym's
machine-learning efficacy (``vaelab.evaluation.synthetic.efficacy``: the mean binary F1 of four classifiers that
learn ``label`` from the synthetic rows and predict the held-out 20 %, at most ``--max-test`` of them), and the
same classifiers' F1 when they learn from the real training rows. The summary then adds the mean efficacy and its
mean ratio to the real rows'. Tables whose held-out part has fewer than ``MIN_POSITIVES`` flagged rows are left
out of an efficacy run: their F1 would be noise. ``--temperatures 1 0.5 0`` samples each fit at several sampling
temperatures (``TabularVAE.sample(temperature=...)``), one record each, named ``VARIANT-tTAU``; ``--chain-steps 0 1``
likewise after that many steps of the encoder-decoder chain (``sample(chain_steps=...)``), ``VARIANT-cK``, and
both together ``VARIANT-tTAU-cK``. A variant with
``method=tvae`` fits TVAE (``ctgan.TVAE()`` at its defaults, the 0/1 and text columns discrete) instead: the
reference, run with the benchmark environment's Python (``bench/synthetic/setup_env.sh``).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vaelab import TabularVAE
from vaelab.data.table_columns import infer_column_kind
from vaelab.evaluation.synthetic.efficacy import ml_efficacy
from vaelab.evaluation.synthetic.shapes import column_shapes
from vaelab.evaluation.synthetic.trends import column_pair_trends

MAX_COLUMNS = 60  # wider tables (images as rows: mnist, celeba, InternetAds) are left out: no one synthesises them
SKIP = ("24_mnist", "8_celeba", "17_InternetAds", "1_ALOI")
MIN_POSITIVES = 30  # flagged rows in the held-out 20 % that an efficacy run needs
LABEL = "label"


def tables(data_dir: Path, names: list[str], efficacy: bool) -> list[Path]:
    found = []
    for path in sorted((data_dir / "adbench").glob("*.npz")):
        if path.stem in SKIP or (names and path.stem not in names):
            continue
        with np.load(path, allow_pickle=False) as archive:
            positives = 0.2 * float(archive["y"].sum())
            if archive["X"].shape[1] <= MAX_COLUMNS and (not efficacy or positives >= MIN_POSITIVES):
                found.append(path)
    return found


def frame_of(path: Path, with_label: bool) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as archive:
        x = archive["X"].astype(np.float64)
        frame = pd.DataFrame(x, columns=[f"c{j}" for j in range(x.shape[1])])
        if with_label:
            frame[LABEL] = archive["y"].astype(np.int64)
    return frame


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, settings = text.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, settings.split(",")):
        key, _, value = item.partition("=")
        try:
            options[key] = None if value == "None" else float(value)  # None, 0.5, 1e-6
        except ValueError:
            options[key] = value
        if key in ("epochs", "min_steps", "latent_dim", "components", "batch_size", "draws"):
            options[key] = int(float(value))
        if key == "hidden_dims":  # widths joined by x: hidden_dims=128x128
            options[key] = [int(width) for width in value.split("x")]
    return name, options


def run_one(
    path: Path,
    seed: int,
    options: dict[str, Any],
    max_rows: int,
    threads: int,
    max_test: int | None,
    samplings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One fit, then one record per sampling: keyword arguments of ``TabularVAE.sample`` ({}: its settings)."""
    frame = frame_of(path, with_label=max_test is not None)
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(0.8 * len(frame))
    train = frame.iloc[np.sort(order[:cut][:max_rows])].reset_index(drop=True)
    test = frame.iloc[np.sort(order[cut:][: max_test or 0])].reset_index(drop=True)
    categorical = [c for c in train.columns if infer_column_kind(c, train[c].to_numpy()) in ("categorical", "binary")]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if options.get("method") == "tvae":  # the reference, in the benchmark's own environment (ctgan is BSL)
            from ctgan import TVAE

            tvae = TVAE()
            tvae.set_random_state(seed)
            tvae.fit(train, discrete_columns=categorical)
            bounds: tuple[float | None, float | None] = (None, None)
            samplings = [{}]

            def sample(**_: Any) -> pd.DataFrame:
                return tvae.sample(len(train))
        else:
            model = TabularVAE(random_state=seed, threads=threads, **options).fit(train)
            bounds = (model.validation_bound_, model.marginal_bound_)

            def sample(**sampling: Any) -> pd.DataFrame:
                return model.sample(len(train), random_state=seed, **sampling)

    fit_seconds = time.perf_counter() - start
    real_efficacy = None
    if max_test is not None:
        real_efficacy = ml_efficacy(train, test, LABEL, 1, categorical, random_state=seed)["mean"]
    records = []
    for sampling in samplings:
        synthetic = sample(**sampling)
        efficacy = {}
        if max_test is not None:
            efficacy = {
                "ml_efficacy": ml_efficacy(synthetic, test, LABEL, 1, categorical, random_state=seed)["mean"],
                "ml_efficacy_real": real_efficacy,
            }
        records.append(
            {
                "table": path.stem,
                "seed": seed,
                "rows": len(train),
                "columns": frame.shape[1],
                "column_shapes": column_shapes(train, synthetic, categorical).mean,
                "column_pair_trends": column_pair_trends(train, synthetic, categorical).mean,
                "valid_bound": bounds[0],
                "marginal_bound": bounds[1],
                "fit_seconds": fit_seconds,
                **efficacy,
            }
        )
    return records


SAMPLING_SUFFIXES = {"temperature": "t", "chain_steps": "c"}  # the record name's mark of each sampling argument


def samplings_of(temperatures: list[float] | None, chain_steps: list[int] | None) -> list[dict[str, Any]]:
    """Every combination of the given temperatures and chain steps, as ``TabularVAE.sample`` keyword arguments."""
    return [
        {key: value for key, value in (("temperature", t), ("chain_steps", c)) if value is not None}
        for t in temperatures or [None]
        for c in chain_steps or [None]
    ]


def variant_names(name: str, samplings: list[dict[str, Any]]) -> list[str]:
    """The record names of one variant: one per sampling, ``NAME`` with ``-tTAU`` and ``-cK`` for what it sets."""
    return [name + "".join(f"-{SAMPLING_SUFFIXES[k]}{v:g}" for k, v in sampling.items()) for sampling in samplings]


def summary(out: Path, names: list[str]) -> None:
    """Per-variant means over the (table, seed) pairs every variant of ``names`` (all in OUT when empty) has
    finished, and on how many pairs each variant scores highest; with efficacy records, also per table."""
    records = [json.loads(p.read_text()) for p in out.glob("*.json")]
    by_variant: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for record in records:
        if not names or record["variant"] in names:
            by_variant.setdefault(record["variant"], {})[(record["table"], record["seed"])] = record
    shared = sorted(set.intersection(*(set(v) for v in by_variant.values()))) if by_variant else []
    print(f"{len(shared)} (table, seed) pairs finished by every variant")
    efficacy = bool(shared) and all("ml_efficacy" in runs[key] for runs in by_variant.values() for key in shared)

    def wins(score: Any) -> dict[str, int]:
        """Per variant: the pairs where ``score(record)`` is highest among the variants."""
        scores = {name: {key: score(runs[key]) for key in shared} for name, runs in by_variant.items()}
        best = {key: max(s[key] for s in scores.values()) for key in shared}
        return {name: sum(s[key] == best[key] for key in shared) for name, s in scores.items()}

    quality_wins = wins(lambda r: r["column_shapes"] + r["column_pair_trends"])
    extra = f"{'efficacy':>10}{'/ real':>8}{'wins':>6}" if efficacy else ""
    print(f"{'variant':<22}{'shapes':>8}{'trends':>8}{'bound-marg':>11}{'fit s (median)':>16}{'wins':>6}{extra}")
    for name, runs in sorted(by_variant.items()):
        rows = [runs[key] for key in shared]
        gap = [r["valid_bound"] - r["marginal_bound"] for r in rows if r["valid_bound"] is not None] or [np.nan]
        print(
            f"{name:<22}{np.mean([r['column_shapes'] for r in rows]):>8.3f}"
            f"{np.mean([r['column_pair_trends'] for r in rows]):>8.3f}{np.mean(gap):>11.2f}"
            f"{np.median([r['fit_seconds'] for r in rows]):>16.1f}{quality_wins[name]:>6}",
            end="",
        )
        if efficacy:
            ratio = [r["ml_efficacy"] / r["ml_efficacy_real"] for r in rows if r["ml_efficacy_real"] > 0]
            efficacy_wins = wins(lambda r: r["ml_efficacy"])[name]
            print(f"{np.mean([r['ml_efficacy'] for r in rows]):>10.3f}{np.mean(ratio):>8.3f}{efficacy_wins:>6}", end="")
        print()
    if efficacy:  # per table, the seeds' means: efficacy of the real rows and each variant's efficacy, shapes, trends
        print(
            "\ntable: real rows' efficacy | "
            + " | ".join(f"{name}: efficacy shapes / trends" for name in sorted(by_variant))
        )
        for table in sorted({key[0] for key in shared}, key=lambda stem: int(stem.split("_")[0])):
            keys = [key for key in shared if key[0] == table]
            first = next(iter(by_variant.values()))
            cells = [f"{np.mean([first[key]['ml_efficacy_real'] for key in keys]):.3f}"]
            for _, runs in sorted(by_variant.items()):
                mean = {m: np.mean([runs[key][m] for key in keys]) for m in ("ml_efficacy", "column_shapes",
                                                                             "column_pair_trends")}  # fmt: skip
                cells.append(
                    f"{mean['ml_efficacy']:.3f} {mean['column_shapes']:.3f} / {mean['column_pair_trends']:.3f}"
                )
            print(f"{table}: " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("runs/synth-defaults"))
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--tables", nargs="*", default=[], help="ADBench stems (default: every table that fits)")
    parser.add_argument(
        "--efficacy", action="store_true", help="add the anomaly flag as a column and score ML efficacy"
    )
    parser.add_argument("--max-test", type=int, default=20_000, help="held-out rows the efficacy classifiers predict")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--temperatures",
        type=float,
        nargs="+",
        help="sample each fit at these temperatures, one record each (VARIANT-tTAU); default: the model's setting",
    )
    parser.add_argument(
        "--chain-steps",
        type=int,
        nargs="+",
        help="sample each fit after these numbers of chain steps, one record each (VARIANT-cK); default: the setting",
    )
    parser.add_argument("--summary", action="store_true", help="only print the summary of OUT (of the --variant names)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    max_test = args.max_test if args.efficacy else None
    samplings = samplings_of(args.temperatures, args.chain_steps)
    for variant in [] if args.summary else args.variant:
        name, options = parse_variant(variant)
        names = variant_names(name, samplings)
        for seed in args.seeds:
            for path in tables(args.data_dir, args.tables, args.efficacy):
                targets = [args.out / f"{record_name}--{path.stem}--{seed}.json" for record_name in names]
                if all(target.exists() for target in targets):
                    continue
                records = run_one(path, seed, options, args.max_rows, args.threads, max_test, samplings)
                for record_name, target, record in zip(names, targets, records, strict=True):
                    target.write_text(json.dumps({"variant": record_name, "options": options, **record}, indent=2))
                    shapes, trends = record["column_shapes"], record["column_pair_trends"]
                    print(record_name, path.stem, seed, f"{shapes:.3f} {trends:.3f}", flush=True)
    summary(args.out, [n for variant in args.variant for n in variant_names(parse_variant(variant)[0], samplings)])


if __name__ == "__main__":
    main()
