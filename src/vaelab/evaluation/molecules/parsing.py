"""SMILES to RDKit molecules under MOSES's validity rule, with RDKit's parse warnings kept quiet.

A SMILES string is *valid* when it is not empty and RDKit parses and sanitises it into a molecule with at
least one atom (MOSES, ``moses.utils.get_mol``: an empty string or one that ``Chem.MolFromSmiles``
rejects is invalid). Two strings are the same molecule when their *canonical* SMILES, RDKit's
``Chem.MolToSmiles`` (isomeric, the default), are equal: uniqueness and novelty compare those.
"""

from __future__ import annotations

from rdkit import Chem, rdBase


def parse(smiles: str) -> Chem.Mol | None:
    """The sanitised molecule of a valid SMILES string, None for an invalid one (module docstring)."""
    if not smiles:
        return None
    with rdBase.BlockLogs():
        molecule = Chem.MolFromSmiles(smiles)
    if molecule is None or molecule.GetNumAtoms() == 0:
        return None
    return molecule


def canonical_smiles(smiles: str) -> str | None:
    """RDKit's canonical SMILES of a valid string, None for an invalid one."""
    molecule = parse(smiles)
    return None if molecule is None else Chem.MolToSmiles(molecule)
