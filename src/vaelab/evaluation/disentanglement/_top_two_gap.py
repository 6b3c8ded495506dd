"""The gap between the best and the second-best code dimension for each factor (MIG, SAP)."""

from __future__ import annotations

import numpy as np


def top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Per column of ``scores`` (D codes, K factors): largest entry minus second largest, shape (K,).

    With a single code dimension the second largest counts as 0.
    """
    ranked = np.sort(scores, axis=0)[::-1]  # (D, K), descending
    second = ranked[1] if ranked.shape[0] > 1 else np.zeros(ranked.shape[1])
    return ranked[0] - second
