"""Which cells of a table are hidden: missing completely at random, or not at random as in not-MIWAE.

- ``mcar20`` / ``mcar50``: each cell hidden independently with probability 0.2 / 0.5;
- ``mnar``: in half the columns (``D // 2`` of them, chosen by the seed), every value above the column's mean is
  hidden (Ipsen, Mattei & Frellsen 2021, "not-MIWAE", §5.1's self-masking pattern).

A row never loses every cell and a column never loses every cell: one cell of such a row (or column), drawn at
random, is given back, so every row has something to condition on and every column something to learn from.
The draw is seeded by (table, pattern, seed), so every method sees the same holes.
"""

from __future__ import annotations

import zlib

import numpy as np

PATTERNS = ("mcar20", "mcar50", "mnar")


def hidden_cells(x: np.ndarray, pattern: str, seed: int, table: str) -> np.ndarray:
    """``(N, D)`` bool: true where the cell is hidden; seeded by (table, pattern, seed)."""
    rng = np.random.default_rng([zlib.crc32(f"{table}/{pattern}".encode()), seed])
    if pattern.startswith("mcar"):
        hide = rng.random(x.shape) < int(pattern.removeprefix("mcar")) / 100
    elif pattern == "mnar":
        columns = rng.choice(x.shape[1], size=x.shape[1] // 2, replace=False)
        hide = np.zeros(x.shape, dtype=bool)
        hide[:, columns] = x[:, columns] > x[:, columns].mean(0)
    else:
        raise SystemExit(f"unknown pattern {pattern!r}; choose from {', '.join(PATTERNS)}")
    full_rows = np.flatnonzero(hide.all(1))
    hide[full_rows, rng.integers(0, x.shape[1], len(full_rows))] = False
    full_columns = np.flatnonzero(hide.all(0))
    hide[rng.integers(0, x.shape[0], len(full_columns)), full_columns] = False
    return hide
