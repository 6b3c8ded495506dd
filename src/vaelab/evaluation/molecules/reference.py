"""The reference side of the MOSES metrics, computed once and cached: statistics of the test set and,
for novelty, the canonical training set.

For MOSES (176k test and 1.6M training molecules) that took 22 minutes on two shared cores with
``n_jobs=2`` (RDKit 9, ChemNet 10, canonicalising the training set 3; ``bench/molecules/results.md``);
scoring a generated set against the cached file then needs none of that.

The file is safetensors (loading it never runs code): the ChemNet moments, the packed fingerprints and
the property values as arrays; the fragment and scaffold counts as a newline-joined UTF-8 array of names
beside an int64 array of counts; the training set likewise, sorted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rdkit
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from vaelab.atomic import atomic_write
from vaelab.errors import UserError
from vaelab.evaluation.molecules.fcd import ChemNetMoments, chemnet_moments
from vaelab.evaluation.molecules.features import molecule_features
from vaelab.evaluation.molecules.fingerprints import PACKED_BYTES
from vaelab.evaluation.molecules.novelty import canonical_set
from vaelab.evaluation.molecules.properties import PROPERTIES

FORMAT = "vaelab.molecule_reference"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ReferenceStatistics:
    """What the metrics need of the reference (test) set, and the canonical training set if given."""

    molecules: int
    chemnet: ChemNetMoments
    fingerprints: np.ndarray  # (M, 128) uint8, packed Morgan bits
    fragments: Mapping[str, int]
    scaffolds: Mapping[str, int]
    properties: Mapping[str, np.ndarray]  # name -> (M,) float64
    training: frozenset[str] | None = None


def reference_statistics(
    test: Sequence[str],
    train: Sequence[str] | None = None,
    *,
    n_jobs: int = 1,
    device: str | torch.device = "cpu",
    batch_size: int = 512,
) -> ReferenceStatistics:
    """Statistics of the reference SMILES ``test`` (each must be a valid molecule), and the canonical
    form of ``train`` for novelty (its invalid entries, if any, dropped)."""
    if len(test) < 2:
        raise UserError(f"the reference set needs at least 2 molecules (FCD fits a covariance), got {len(test)}")
    features = molecule_features(test, filters=False, n_jobs=n_jobs)
    invalid = [i for i, smiles in enumerate(features.canonical) if smiles is None]
    if invalid:
        raise UserError(
            f"{len(invalid)} of the {len(test)} reference SMILES are not valid molecules (the first, at index "
            f"{invalid[0]}, is {test[invalid[0]]!r}); remove them from the reference set"
        )
    return ReferenceStatistics(
        molecules=len(test),
        chemnet=chemnet_moments(features.valid, batch_size, device),
        fingerprints=features.fingerprints,
        fragments=dict(features.fragments),
        scaffolds=dict(features.scaffolds),
        properties=features.properties,
        training=None if train is None else canonical_set(train, n_jobs),
    )


def _names(names: Sequence[str]) -> np.ndarray:
    return np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8)


def _counts_arrays(prefix: str, counts: Mapping[str, int]) -> dict[str, np.ndarray]:
    return {f"{prefix}.names": _names(list(counts)), f"{prefix}.counts": np.array(list(counts.values()), np.int64)}


def _read_names(array: np.ndarray) -> list[str]:
    return array.tobytes().decode("utf-8").split("\n") if array.size else []


def save_reference(statistics: ReferenceStatistics, path: str | os.PathLike[str]) -> None:
    """Write ``statistics`` to a safetensors file (module docstring), atomically."""
    arrays = {
        "chemnet.mean": statistics.chemnet.mean,
        "chemnet.covariance": statistics.chemnet.covariance,
        "fingerprints": statistics.fingerprints,
        **_counts_arrays("fragments", statistics.fragments),
        **_counts_arrays("scaffolds", statistics.scaffolds),
        **{f"properties.{name}": values for name, values in statistics.properties.items()},
    }
    if statistics.training is not None:
        arrays["training"] = _names(sorted(statistics.training))
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "info": json.dumps({"molecules": statistics.molecules, "rdkit": rdkit.__version__}),
    }
    arrays = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    atomic_write(path, lambda tmp: save_file(arrays, str(tmp), metadata=metadata))


def load_reference(path: str | os.PathLike[str]) -> ReferenceStatistics:
    """Read a file written by :func:`save_reference`; a missing, foreign or damaged file is a ``UserError``."""
    fix = "compute it again with reference_statistics and save_reference"
    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != FORMAT or int(metadata.get("format_version", "0")) > FORMAT_VERSION:
                raise ValueError("not a vaelab molecule reference of a known version")
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (no iterator)
        info = json.loads(metadata["info"])
        if arrays["fingerprints"].shape != (int(info["molecules"]), PACKED_BYTES):
            raise ValueError(f"fingerprints of shape {arrays['fingerprints'].shape} for {info['molecules']} molecules")
        statistics = ReferenceStatistics(
            molecules=int(info["molecules"]),
            chemnet=ChemNetMoments(arrays["chemnet.mean"], arrays["chemnet.covariance"]),
            fingerprints=arrays["fingerprints"],
            fragments=_read_counts(arrays, "fragments"),
            scaffolds=_read_counts(arrays, "scaffolds"),
            properties={name: arrays[f"properties.{name}"] for name in PROPERTIES},
            training=frozenset(_read_names(arrays["training"])) if "training" in arrays else None,
        )
    except (SafetensorError, OSError, ValueError, KeyError) as error:
        raise UserError(
            f"{Path(path)}: unreadable molecule reference ({' '.join(str(error).split())}); {fix}"
        ) from None
    return statistics


def _read_counts(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, int]:
    names, counts = _read_names(arrays[f"{prefix}.names"]), arrays[f"{prefix}.counts"]
    if len(names) != len(counts):
        raise ValueError(f"{prefix}: {len(names)} names but {len(counts)} counts")
    return dict(zip(names, counts.tolist(), strict=True))
