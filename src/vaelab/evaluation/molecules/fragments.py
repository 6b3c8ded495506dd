"""Fragment similarity, Frag (MOSES §3.2): the cosine similarity (:mod:`counts`) of how often each BRICS
fragment occurs in the generated and in the reference molecules.

A molecule's fragments are the pieces left when every bond that BRICS (Degen et al. 2008, "On the art of
compiling and using 'drug-like' chemical fragment spaces") marks as breakable is cut, each written as a
canonical SMILES with the dummy atoms that label the cut, e.g. ``[16*]c1ccc(Cl)cc1`` (MOSES's
``fragmenter``: ``FragmentOnBRICSBonds`` and ``MolToSmiles`` split at the dots). A molecule with no
breakable bond is one fragment, itself.
"""

from __future__ import annotations

from rdkit import Chem


def brics_fragments(molecule: Chem.Mol) -> list[str]:
    """The canonical SMILES of the BRICS fragments of one molecule, repeats kept."""
    return Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(molecule)).split(".")
