"""Reconstruction minus a weighted rate as the anomaly score: ROC-AUC of ``E_q log p(x|z) - w KL(q || p)``
for several weights w, from one default VAEDetector per ADBench table and seed (the splits of run.py).
w = 1 is the ELBO; w -> infinity ranks like the rate alone.

    cd bench/anomaly && .venv/bin/python score_blend.py --data-dir ../../../shared/data --seeds 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from run import TABLES, split_table
from sklearn.metrics import roc_auc_score

from vaelab import VAEDetector

WEIGHTS: tuple[float | None, ...] = (1, 2, 4, 8, 16, 32, None)  # None: the rate alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in run.py
    auc: dict[tuple[str, float | None], list[float]] = {}
    for seed in range(args.seeds):
        for table in TABLES:
            x_train, x_test, y_test = split_table(args.data_dir / "adbench" / f"{table}.npz", seed)
            detector = VAEDetector(random_state=seed).fit(x_train)
            reconstruction = detector.set_params(score_type="reconstruction").score_samples(x_test)
            minus_kl = detector.set_params(score_type="kl").score_samples(x_test)
            for weight in WEIGHTS:
                score = minus_kl if weight is None else reconstruction + weight * minus_kl
                auc.setdefault((table, weight), []).append(roc_auc_score(y_test, -score))
    print("| weight w | " + " | ".join(t.split("_", 1)[1] for t in TABLES) + " | mean |")
    print("|---" * (len(TABLES) + 2) + "|")
    for weight in WEIGHTS:
        per_table = [float(np.mean(auc[(table, weight)])) for table in TABLES]
        cells = " | ".join(f"{value:.3f}" for value in per_table)
        print(f"| {'rate only' if weight is None else weight} | {cells} | **{np.mean(per_table):.3f}** |")


if __name__ == "__main__":
    main()
