"""Are VAEImputer's multiple imputations calibrated? Coverage of 90 % intervals on a linear-Gaussian table.

Rows x = W z + e (z: 2-D standard normal, e: N(0, 0.5^2 I), 5 columns, W drawn per seed), 30 % of cells missing
completely at random; the imputer is fitted on the incomplete table and draws 100 imputations; the 5 % and 95 %
quantiles of each hidden cell's draws form its 90 % interval. Reported: the share of hidden cells whose true value
lies inside, per seed and over all, next to the same share for the exact conditional distribution p(x_m | x_o)
(Gaussian, known in closed form: the best any imputer can do with 100 draws).

    .venv/bin/python bench/imputation/calibration.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from vaelab import VAEImputer

ROWS, RATE, DRAWS = 3000, 0.3, 100


def table(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(5, 2))
    x = rng.normal(size=(ROWS, 2)) @ w.T + 0.5 * rng.normal(size=(ROWS, 5))
    return x, w @ w.T + 0.25 * np.eye(5)


def exact_draws(x: np.ndarray, hide: np.ndarray, cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(DRAWS, N, D)`` draws of each row's hidden cells from the exact Gaussian conditional (observed cells kept)."""
    draws = np.repeat(x[None], DRAWS, axis=0)
    for i in range(len(x)):
        m, o = hide[i], ~hide[i]
        if not m.any():
            continue
        gain = cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
        mean = gain @ x[i, o]
        conditional = cov[np.ix_(m, m)] - gain @ cov[np.ix_(o, m)]
        draws[:, i, m] = rng.multivariate_normal(mean, conditional, size=DRAWS)
    return draws


def coverage(draws: np.ndarray, x: np.ndarray, hide: np.ndarray) -> float:
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    return float(((low[hide] <= x[hide]) & (x[hide] <= high[hide])).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| seed | hidden cells | vaelab coverage | exact conditional coverage |")
    print("|---|---|---|---|")
    totals = []
    for seed in args.seeds:
        x, cov = table(seed)
        rng = np.random.default_rng(seed + 100)
        hide = rng.random(x.shape) < RATE
        hide[hide.all(1), 0] = False
        holes = np.where(hide, np.nan, x)
        imputer = VAEImputer(n_imputations=DRAWS, random_state=seed)
        draws = np.stack(imputer.fit(holes).multiple_imputations(holes))
        ours, exact = coverage(draws, x, hide), coverage(exact_draws(x, hide, cov, rng), x, hide)
        totals.append((ours, exact, int(hide.sum())))
        print(f"| {seed} | {int(hide.sum())} | {ours:.3f} | {exact:.3f} |", flush=True)
    cells = sum(t[2] for t in totals)
    ours = sum(t[0] * t[2] for t in totals) / cells
    exact = sum(t[1] * t[2] for t in totals) / cells
    print(f"| all | {cells} | {ours:.3f} | {exact:.3f} |")


if __name__ == "__main__":
    main()
