"""Novelty (MOSES §3.2): the fraction of the distinct valid generated molecules that do not occur in the
training set, both compared as canonical SMILES (:mod:`parsing`),

    novelty = |set(G_valid) \\ T| / |set(G_valid)|

In [0, 1]; 0 when every generated molecule is a training molecule (a model that only copies its data),
1 when none is. Unlike MOSES, which compares with the training SMILES as stored, the training set is
canonicalised with the same RDKit as the generated molecules, so a change in RDKit's canonical form
between versions cannot make a copied molecule look new.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from vaelab.evaluation.molecules.parallel import map_smiles
from vaelab.evaluation.molecules.parsing import canonical_smiles


def canonical_set(smiles: Sequence[str], n_jobs: int = 1) -> frozenset[str]:
    """The canonical SMILES of the valid entries of a set, e.g. the training set (invalid ones dropped)."""
    return frozenset(s for s in map_smiles(canonical_smiles, smiles, n_jobs) if s is not None)


def novelty(valid: Sequence[str], training: Collection[str]) -> float:
    """Novelty of canonical SMILES ``valid`` against the canonical training SMILES ``training``."""
    distinct = set(valid)
    if not distinct:
        raise ValueError("novelty of an empty set of molecules is undefined")
    return len(distinct.difference(training)) / len(distinct)
