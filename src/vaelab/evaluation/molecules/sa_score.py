"""The synthetic accessibility score, SA (Ertl & Schuffenhauer 2009, "Estimation of synthetic
accessibility score of drug-like molecules based on molecular complexity and fragment contributions",
J. Cheminform. 1:8): from 1 (easy to make) to 10 (hard),

    SA = scaled(fragment score - complexity penalties + symmetry correction)

where the fragment score is the mean contribution of the molecule's Morgan (radius 2) environments,
learnt from PubChem, and the penalties count atoms, stereo centres, spiro and bridgehead atoms and
macrocycles. RDKit ships the authors' implementation as ``rdkit.Contrib.SA_Score.sascorer`` (the one
MOSES vendors), which computes the score here.

That module reads its table of fragment contributions, ``fpscores.pkl.gz``, with ``pickle.load``, which
would run any code a tampered file asked for. vaelab never unpickles, so the table (nested lists of
numbers) is read here by an unpickler that refuses every class and function, and handed to ``sascorer``
before its first call, which then skips its own loading.
"""

from __future__ import annotations

import functools
import gzip
import pickle
from pathlib import Path

from rdkit import Chem
from rdkit.Contrib.SA_Score import sascorer


class _NumbersOnly(pickle.Unpickler):
    """Builds lists, tuples, dicts, strings and numbers only: any class or function is refused."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refused {module}.{name}: the SA fragment table holds only numbers")


@functools.cache
def _load_fragment_scores() -> None:
    """Fill ``sascorer``'s table as its ``readFragmentScores`` would: fragment id -> contribution."""
    path = Path(sascorer.__file__).with_name("fpscores.pkl.gz")
    with gzip.open(path) as handle:
        rows = _NumbersOnly(handle).load()
    sascorer._fscores = {int(fragment): float(row[0]) for row in rows for fragment in row[1:]}


def sa_score(molecule: Chem.Mol) -> float:
    """The SA score of one molecule (module docstring)."""
    _load_fragment_scores()
    return float(sascorer.calculateScore(molecule))
