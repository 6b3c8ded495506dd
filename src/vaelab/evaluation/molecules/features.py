"""Everything the MOSES metrics need from each molecule, computed in one pass over a list of SMILES.

Each SMILES is parsed once (:mod:`parsing`) and, when valid, described by its canonical SMILES, packed
Morgan fingerprint, BRICS fragments, Bemis–Murcko scaffold, property values and, optionally, whether it
passes the filters; the set-level metrics are then functions of these columns. The work can be spread
over ``n_jobs`` processes (:mod:`parallel`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from rdkit import Chem, rdBase

from vaelab.evaluation.molecules.filters import passes_filters
from vaelab.evaluation.molecules.fingerprints import PACKED_BYTES, morgan_bits
from vaelab.evaluation.molecules.fragments import brics_fragments
from vaelab.evaluation.molecules.parallel import map_smiles
from vaelab.evaluation.molecules.parsing import parse
from vaelab.evaluation.molecules.properties import PROPERTIES, property_values
from vaelab.evaluation.molecules.scaffolds import murcko_scaffold


class _Description(NamedTuple):
    canonical: str
    fingerprint: np.ndarray
    fragments: list[str]
    scaffold: str | None
    properties: dict[str, float]
    passes_filters: bool | None


@dataclass(frozen=True)
class MoleculeFeatures:
    """The columns of a described set. ``canonical`` has one entry per input SMILES (None where it is
    invalid); every other column covers the valid molecules only, in input order, duplicates included."""

    canonical: list[str | None]
    fingerprints: np.ndarray  # (V, PACKED_BYTES) uint8
    fragments: Counter[str]
    scaffolds: Counter[str]
    properties: dict[str, np.ndarray]  # name -> (V,) float64
    passes_filters: np.ndarray | None  # (V,) bool, None when not asked for

    @property
    def valid(self) -> list[str]:
        """The canonical SMILES of the valid molecules, in input order, duplicates included."""
        return [smiles for smiles in self.canonical if smiles is not None]


def _describe(smiles: str, filters: bool) -> _Description | None:
    molecule = parse(smiles)
    if molecule is None:
        return None
    with rdBase.BlockLogs():
        return _Description(
            canonical=Chem.MolToSmiles(molecule),
            fingerprint=morgan_bits(molecule),
            fragments=brics_fragments(molecule),
            scaffold=murcko_scaffold(molecule),
            properties=property_values(molecule),
            passes_filters=passes_filters(molecule) if filters else None,
        )


def molecule_features(smiles: Sequence[str], *, filters: bool = True, n_jobs: int = 1) -> MoleculeFeatures:
    """Describe every SMILES (module docstring); ``filters=False`` skips the filter check, which only
    generated sets need and which costs about a millisecond a molecule."""
    described = map_smiles(functools.partial(_describe, filters=filters), smiles, n_jobs)
    valid = [d for d in described if d is not None]
    return MoleculeFeatures(
        canonical=[None if d is None else d.canonical for d in described],
        fingerprints=np.stack([d.fingerprint for d in valid]) if valid else np.zeros((0, PACKED_BYTES), np.uint8),
        fragments=Counter(fragment for d in valid for fragment in d.fragments),
        scaffolds=Counter(d.scaffold for d in valid if d.scaffold is not None),
        properties={name: np.array([d.properties[name] for d in valid], dtype=np.float64) for name in PROPERTIES},
        passes_filters=np.array([d.passes_filters for d in valid], dtype=bool) if filters else None,
    )
