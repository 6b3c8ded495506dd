"""Property distribution distances (MOSES §3.2): for each of four molecular properties, the Wasserstein-1
distance between its values over the reference (test) molecules and over the valid generated ones,

    W1(P_R, P_G) = ∫ |F_R(x) - F_G(x)| dx

with F the empirical cumulative distribution functions (``scipy.stats.wasserstein_distance``, as MOSES).
0 for identical samples; lower is better. The properties, as MOSES computes them:

- ``logP``: Wildman–Crippen octanol–water partition coefficient (Wildman & Crippen 1999), RDKit's
  ``Crippen.MolLogP``;
- ``SA``: synthetic accessibility score (:mod:`sa_score`);
- ``QED``: quantitative estimate of drug-likeness (Bickerton et al. 2012), ``QED.qed``;
- ``weight``: average molecular weight in daltons, hydrogens included, ``Descriptors.MolWt``.

``Crippen.MolLogP`` and ``Descriptors.MolWt`` are defined at run time as calls of the two
``rdMolDescriptors`` functions used below (which RDKit's type stubs know); the tests check they agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors
from scipy.stats import wasserstein_distance

from vaelab.evaluation.molecules.sa_score import sa_score


def log_p(molecule: Chem.Mol) -> float:
    """Wildman–Crippen logP, as ``Crippen.MolLogP``."""
    return float(rdMolDescriptors.CalcCrippenDescriptors(molecule)[0])


def molecular_weight(molecule: Chem.Mol) -> float:
    """Average molecular weight, as ``Descriptors.MolWt``."""
    return rdMolDescriptors._CalcMolWt(molecule)


PROPERTIES: dict[str, Callable[[Chem.Mol], float]] = {
    "logP": log_p,
    "SA": sa_score,
    "QED": QED.qed,
    "weight": molecular_weight,
}


def property_values(molecule: Chem.Mol) -> dict[str, float]:
    """Every property of ``PROPERTIES`` for one molecule."""
    return {name: float(function(molecule)) for name, function in PROPERTIES.items()}


def property_distance(reference: np.ndarray, generated: np.ndarray) -> float:
    """W1 between two samples of one property (module docstring)."""
    return float(wasserstein_distance(reference, generated))
