"""Uniqueness, unique@k (MOSES §3.2): among the first k valid generated molecules, the fraction of
distinct ones,

    unique@k = |{canonical(m) : m ∈ G_valid[:k]}| / |G_valid[:k]|

MOSES reports unique@1000 and unique@10000. When fewer than k molecules are valid, the figure covers
all of them and a warning says so (MOSES does the same). In (0, 1]; a set made of each molecule twice
scores 0.5.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence


def fraction_unique(valid: Sequence[str], k: int) -> float:
    """unique@k of the canonical SMILES of the valid molecules, in generation order."""
    if not valid:
        raise ValueError("uniqueness of an empty set of molecules is undefined")
    if len(valid) < k:
        warnings.warn(f"unique@{k} is computed on only {len(valid)} valid molecules", stacklevel=2)
    first = valid[:k]
    return len(set(first)) / len(first)
