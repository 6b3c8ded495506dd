"""Scaffold similarity, Scaf (MOSES §3.2): the cosine similarity (:mod:`counts`) of how often each
Bemis–Murcko scaffold occurs in the generated and in the reference molecules.

A molecule's Bemis–Murcko scaffold (Bemis & Murcko 1996, "The properties of known drugs. 1. Molecular
frameworks") is what remains after removing every side chain: its ring systems and the linkers between
them (RDKit's ``MurckoScaffold.GetScaffoldForMol``, atom and bond types kept), as canonical SMILES.
As in MOSES (``compute_scaffold``, ``min_rings=2``), a scaffold with fewer than two rings, or none,
is not counted.

Scaf depends on the sample size: with 30,000 generated molecules, rare scaffolds of the test set are
missed by chance, so compare Scaf figures only at equal sample sizes.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

MIN_RINGS = 2


def murcko_scaffold(molecule: Chem.Mol) -> str | None:
    """The canonical SMILES of the Bemis–Murcko scaffold, None when it has fewer than ``MIN_RINGS`` rings."""
    scaffold = MurckoScaffold.GetScaffoldForMol(molecule)
    if scaffold.GetRingInfo().NumRings() < MIN_RINGS:
        return None
    return Chem.MolToSmiles(scaffold)
