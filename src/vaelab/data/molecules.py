"""Molecules from SMILES with RDKit: the optional packages imported on use, and canonical SMILES.

RDKit and ``selfies`` come with the optional extra ``vaelab[molecules]``; without them, reading molecules is
one line saying how to install them.
"""

from __future__ import annotations

from types import ModuleType

from vaelab.errors import UserError

INSTALL = "pip install 'vaelab[molecules]'"


def import_rdkit_chem() -> ModuleType:
    """``rdkit.Chem``; UserError saying how to install RDKit when it is absent."""
    try:
        from rdkit import Chem
    except ImportError as error:
        raise UserError(f"reading molecules needs RDKit, which is not installed; install it with {INSTALL}") from error
    return Chem


def import_selfies() -> ModuleType:
    """The ``selfies`` package; UserError saying how to install it when it is absent."""
    try:
        import selfies
    except ImportError as error:
        raise UserError(
            f"SELFIES tokens need the selfies package, which is not installed; install it with {INSTALL}"
        ) from error
    return selfies


def rdkit_version() -> str:
    """The installed RDKit's version (canonical SMILES may differ between versions)."""
    import_rdkit_chem()
    from rdkit import rdBase

    return str(rdBase.rdkitVersion)


def rdkit_smiles(texts: list[str], canonical: bool) -> list[str | None]:
    """Each text read by RDKit as a molecule: its canonical SMILES (``canonical``) or the text as given,
    None where RDKit cannot read a molecule with at least one atom. RDKit's own messages are silenced."""
    chem = import_rdkit_chem()
    from rdkit.rdBase import BlockLogs

    read: list[str | None] = []
    with BlockLogs():
        for text in texts:
            molecule = chem.MolFromSmiles(text)
            if molecule is None or molecule.GetNumAtoms() == 0:
                read.append(None)
            else:
                read.append(chem.MolToSmiles(molecule) if canonical else text)
    return read
