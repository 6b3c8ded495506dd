"""Validity (MOSES §3.2): the fraction of generated SMILES that are valid molecules (:mod:`parsing`:
not empty, parsed and sanitised by RDKit, at least one atom). In [0, 1]; every other metric is computed
on the valid ones only."""

from __future__ import annotations

from collections.abc import Sequence


def fraction_valid(canonical: Sequence[str | None]) -> float:
    """The fraction of entries that are not None, in the per-input canonical SMILES (None = invalid)."""
    if not canonical:
        raise ValueError("validity of an empty set of SMILES is undefined")
    return sum(smiles is not None for smiles in canonical) / len(canonical)
