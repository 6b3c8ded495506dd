"""Scores the library does not offer, computed from the detector's fits on the 29 ADBench tables, to see
whether any would rank anomalies better than the rate-weighted ELBO (issue 25's exploration; the results in
``results-leave-tables-out.md``). Same splits and records as ``leave_tables_out.py``; ``--summary`` there
reads the file.

For a fit with a learned per-column Gaussian scale sigma (every column Gaussian: ``binary_columns="gaussian"``),
posterior samples z_s and decoder means mu(z_s):
- ``w=K``: E_q log N(x; mu, sigma) - K KL (the library's rate-weighted score);
- ``mse+Kkl``: -E_q ||x - mu||^2 / 2 - K KL (a unit scale on the scaled columns in place of the learned one);
- ``floorF+Kkl``: the learned scales floored at F;
- ``clipC+Kkl``: each column's log-likelihood floored at -C nats (one extreme column cannot dominate a row).

    .venv/bin/python bench/anomaly/score_variants.py --data-dir ../shared/data --seeds 0 1 2 \
        --name binary-gaussian --params '{"binary_columns": "gaussian"}' --out variants.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from leave_tables_out import figures, load_table, run_baseline, split
from torch.distributions import Normal, kl_divergence

from vaelab import VAEDetector

WEIGHTS = (0, 1, 4, 16)


@torch.inference_mode()
def variants(detector: VAEDetector, rows: np.ndarray, samples: int = 16) -> dict[str, np.ndarray]:
    """Every variant's score (higher = more normal), averaged over the detector's models."""
    x = torch.from_numpy(detector.preprocessor_.transform(rows))
    total: dict[str, np.ndarray] = {}
    for model, seed in zip(detector.models_, detector.seeds_, strict=True):
        eps = torch.randn((samples, model.latent_dim), generator=torch.Generator().manual_seed(seed))
        q_z = model.encode(x)
        decoded = model.decode(q_z.mean + q_z.stddev * eps[:, None, :])
        if not hasattr(decoded, "base_dist"):
            raise SystemExit(
                "the variants need a Gaussian over every column: add binary_columns='gaussian' to --params"
            )
        p_x = decoded.base_dist  # (S, B, D) locs and scales
        kl = kl_divergence(q_z, model.p_z())  # (B,)
        log_p = Normal(p_x.loc, p_x.scale).log_prob(x)  # (S, B, D)
        terms = {
            "w": log_p.sum(-1).mean(0),
            "mse+": -0.5 * ((x - p_x.loc) ** 2).sum(-1).mean(0),
            "floor0.3+": Normal(p_x.loc, p_x.scale.clamp(min=0.3)).log_prob(x).sum(-1).mean(0),
            "clip5+": log_p.clamp(min=-5.0).sum(-1).mean(0),
        }
        for name, reconstruction in terms.items():
            for weight in WEIGHTS:
                key = f"w={weight}" if name == "w" else f"{name}{weight}kl"
                score = (reconstruction - weight * kl).double().numpy()
                total[key] = total.get(key, 0.0) + score / len(detector.models_)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--name", required=True, help="the setting's name in the records")
    parser.add_argument("--params", default="{}", help="VAEDetector parameters as JSON")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    params: dict[str, Any] = json.loads(args.params)
    done = set()
    if args.out.is_file():
        done = {(r["table"], r["seed"], r["method"]) for r in map(json.loads, args.out.read_text().splitlines())}
    for path in sorted(args.data_dir.joinpath("adbench").glob("*.npz"), key=lambda p: int(p.name.split("_")[0])):
        x, y = load_table(path)
        for seed in args.seeds:
            train, test, y_test = split(x, y, seed, 20_000)
            for method in ("IsolationForest", args.name):
                if (path.stem, seed, method) in done:
                    continue
                if method == "IsolationForest":
                    result = run_baseline(method, train, test, y_test, seed, 0)
                else:
                    started = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        detector = VAEDetector(random_state=seed, **params).fit(train)
                        own = -detector.score_samples(test)
                    scores = {"default": figures(y_test, own)}
                    scores |= {k: figures(y_test, -v) for k, v in variants(detector, test).items()}
                    result = {"seconds": time.perf_counter() - started, "scores": scores}
                with args.out.open("a") as out:
                    out.write(json.dumps({"table": path.stem, "seed": seed, "method": method, **result}) + "\n")


if __name__ == "__main__":
    main()
