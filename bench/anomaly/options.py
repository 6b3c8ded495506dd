"""Per-option study behind VAEDetector's defaults: every score on the same fitted models, per training option.

For each training configuration (scaling, KL weight, likelihood, network size) and each ADBench table
and seed (the stratified 60/40 splits of leave_tables_out.py), one detector is fitted; then every score in
``vaelab.applications.anomaly.SCORES`` is computed from that fit, and the blends reconstruction - w KL
for ``BLEND_WEIGHTS``. Prints ROC-AUC per dataset and the mean.

    bench/anomaly/.venv/bin/python bench/anomaly/options.py --seeds 2
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from leave_tables_out import load_table, split
from sklearn.metrics import average_precision_score, roc_auc_score

from vaelab import VAEDetector
from vaelab.applications.anomaly import SCORES, defaults


def _larger_network(num_features: int) -> dict[str, Any]:
    """The first rule tried: two hidden layers of clip(next power of two >= 4 D, 64, 256) units and
    clip(ceil(D / 2), 2, 16) latent dimensions."""
    width = min(256, max(64, 1 << math.ceil(math.log2(4 * num_features))))
    return {"hidden_dims": [width, width], "latent_dim": min(16, max(2, math.ceil(num_features / 2)))}


TABLES = ("6_cardio", "23_mammography", "28_pendigits", "30_satellite", "32_shuttle", "38_thyroid")
"""The six tables the first studies chose the defaults on."""
CONFIGS: dict[str, Callable[[int], dict[str, Any]]] = {
    "default": lambda d: {},
    "scaling=standard": lambda d: {"scaling": "standard"},
    "scaling=quantile": lambda d: {"scaling": "quantile"},
    "beta=4": lambda d: {"beta": 4.0},
    "likelihood=gaussian-unit": lambda d: {"likelihood": "gaussian-unit"},
    "likelihood=gaussian-decoder": lambda d: {"likelihood": "gaussian-decoder"},
    "larger network": _larger_network,
    "ensemble of 3": lambda d: {"n_models": 3},
    "ensemble of 5": lambda d: {"n_models": 5},
}
"""Name -> VAEDetector parameters given the number of columns D; everything else stays at its default."""


BLEND_WEIGHTS = (2, 4, 8, 16)
"""Weights w of the blended scores ``E_q log p(x|z) - w KL(q || p)``, computed from the same fits."""


def config_params(name: str, num_features: int) -> dict[str, Any]:
    """A named config, or ad-hoc parameters written ``key=value+key=value`` (``beta=4+min_scale=0.3``)."""
    if name in CONFIGS:
        return CONFIGS[name](num_features)
    return {key: ast.literal_eval(value) for key, value in (pair.split("=", 1) for pair in name.split("+"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), help="names, or key=value+key=value")
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--json", type=Path, help="append every measured row to this JSON-lines file")
    parser.add_argument(
        "--table-steps", type=int, default=defaults.TABLE_STEPS, help="optimisation steps the default epochs aim at"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in run.py
    defaults.TABLE_STEPS = args.table_steps  # the training length the study varies
    rows = []
    for seed in range(args.seeds):
        for table in args.tables:
            x_train, x_test, y_test = split(*load_table(args.data_dir / "adbench" / f"{table}.npz"), seed, 20_000)
            for name in args.configs:
                started = time.perf_counter()
                params = config_params(name, x_train.shape[1])
                fitted = VAEDetector(random_state=seed, **params).fit(x_train)
                fit_s = time.perf_counter() - started
                normal = {score: fitted.set_params(score_type=score).score_samples(x_test) for score in SCORES}
                for weight in BLEND_WEIGHTS:  # w = 1 is the ELBO; w -> infinity ranks like the rate alone
                    normal[f"reconstruction-{weight}kl"] = normal["reconstruction"] + weight * normal["kl"]
                for score, values in normal.items():
                    anomaly = -values
                    row = {
                        "config": name,
                        "score": score,
                        "dataset": table,
                        "seed": seed,
                        "roc_auc": roc_auc_score(y_test, anomaly),
                        "average_precision": average_precision_score(y_test, anomaly),
                        "fit_s": fit_s,
                        "active_units": fitted.active_units_.tolist(),
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if args.json:
                        with args.json.open("a") as handle:
                            handle.write(json.dumps(row) + "\n")
    print(summarise(rows))


def summarise(rows: list[dict[str, Any]]) -> str:
    tables = list(dict.fromkeys(r["dataset"] for r in rows))
    short = [t.split("_", 1)[1] for t in tables]
    lines = ["| config | score | " + " | ".join(short) + " | mean | active units |", "|---" * (len(tables) + 4) + "|"]
    for config in dict.fromkeys(r["config"] for r in rows):
        for score in dict.fromkeys(r["score"] for r in rows):
            cells = [
                np.mean([r["roc_auc"] for r in rows if (r["config"], r["score"], r["dataset"]) == (config, score, t)])
                for t in tables
            ]
            active = np.mean([np.mean(r["active_units"]) for r in rows if (r["config"], r["score"]) == (config, score)])
            lines.append(
                f"| {config} | {score} | "
                + " | ".join(f"{c:.3f}" for c in cells)
                + f" | **{np.mean(cells):.3f}** | {active:.1f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
