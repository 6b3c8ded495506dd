"""Filters (MOSES §3.2): the fraction of valid generated molecules that pass the rules MOSES's training
data was built with (``mol_passes_filters``). A molecule passes when

- every atom is one of C, N, S, O, F, Cl, Br, H and carries no formal charge;
- no ring has 8 atoms or more;
- its explicit-hydrogen form (``Chem.AddHs``) matches none of the medicinal-chemistry filters (MCF) and
  PAINS substructures (Baell & Holloway 2010), the SMARTS in ``smarts/mcf.csv`` and
  ``smarts/wehi_pains.csv`` (copied from MOSES, MIT licence in ``smarts/LICENSE``);
- its non-isomeric SMILES is not empty and parses again.

Speed: a pattern can only match a molecule whose pattern fingerprint (``Chem.PatternFingerprint``,
RDKit's substructure screen) has every bit of the pattern's, so each of the ~500 SMARTS is tried only
when that screen lets it through; the answer is the same (``tests/test_molecule_metrics.py`` checks it
against trying every pattern), about five times faster.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources

import numpy as np
from rdkit import Chem, DataStructs

ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
MAX_RING_SIZE = 7


@functools.cache
def patterns() -> list[tuple[str, Chem.Mol, DataStructs.ExplicitBitVect]]:
    """(name, SMARTS query, its pattern fingerprint) for every MCF and PAINS entry, MCF first."""
    folder = importlib.resources.files(__package__) / "smarts"
    mcf = csv.DictReader((folder / "mcf.csv").read_text(encoding="utf-8").splitlines())
    pains = csv.reader((folder / "wehi_pains.csv").read_text(encoding="utf-8").splitlines())
    entries = [(row["names"], row["smarts"]) for row in mcf]
    entries += [(name.strip(), smarts.strip()) for smarts, name in pains]  # fields padded with spaces
    queries = [(name, Chem.MolFromSmarts(smarts)) for name, smarts in entries]
    return [(name, query, Chem.PatternFingerprint(query)) for name, query in queries]


def matching_patterns(molecule: Chem.Mol) -> list[str]:
    """The names of the MCF and PAINS patterns that the explicit-hydrogen form of ``molecule`` matches."""
    with_hydrogens = Chem.AddHs(molecule)
    bits = Chem.PatternFingerprint(with_hydrogens)
    return [
        name
        for name, query, query_bits in patterns()
        if DataStructs.AllProbeBitsMatch(query_bits, bits) and with_hydrogens.HasSubstructMatch(query)
    ]


def passes_filters(molecule: Chem.Mol) -> bool:
    """Whether one molecule passes every rule of the module docstring."""
    if any(len(ring) > MAX_RING_SIZE for ring in molecule.GetRingInfo().AtomRings()):
        return False
    atoms = molecule.GetAtoms()
    if any(atom.GetFormalCharge() != 0 or atom.GetSymbol() not in ALLOWED_ATOMS for atom in atoms):
        return False
    if matching_patterns(molecule):
        return False
    smiles = Chem.MolToSmiles(molecule, isomericSmiles=False)
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def fraction_passing(passed: np.ndarray) -> float:
    """The Filters figure: the fraction of True in the per-molecule pass flags (N,)."""
    return float(np.mean(passed))
