"""The MOSES benchmark's metrics of a generated set (Polykovskiy et al. 2020, "Molecular Sets (MOSES): a
benchmarking platform for molecular generation models", Front. Pharmacol. 11:565644, §3.2), one call.

The figures, under MOSES's names (``moses.metrics.get_all_metrics``), each defined in its module:

| key | module | on |
|---|---|---|
| ``valid`` | :mod:`validity` | all generated SMILES |
| ``unique@1000``, ``unique@10000`` | :mod:`uniqueness` | the first k valid ones |
| ``FCD/Test`` | :mod:`fcd` | valid ones against the reference |
| ``SNN/Test`` | :mod:`snn` | valid ones against the reference |
| ``Frag/Test`` | :mod:`fragments` | valid ones against the reference |
| ``Scaf/Test`` | :mod:`scaffolds` | valid ones against the reference |
| ``IntDiv``, ``IntDiv2`` | :mod:`diversity` | valid ones among themselves |
| ``Filters`` | :mod:`filters` | valid ones |
| ``logP``, ``SA``, ``QED``, ``weight`` | :mod:`properties` | valid ones against the reference |
| ``Novelty`` | :mod:`novelty` | distinct valid ones against the training set |

"Valid ones" means every valid molecule in generation order, duplicates included, as MOSES. With fewer
than two valid molecules only ``valid`` is a number and the other figures are NaN. ``Novelty`` is
reported when a training set is known (given here, or cached in the reference). MOSES scores 30,000
generated SMILES; FCD and Scaf depend on that size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch

from vaelab.errors import UserError
from vaelab.evaluation.molecules.counts import cosine_similarity
from vaelab.evaluation.molecules.diversity import internal_diversity
from vaelab.evaluation.molecules.fcd import chemnet_moments, fcd
from vaelab.evaluation.molecules.features import molecule_features
from vaelab.evaluation.molecules.filters import fraction_passing
from vaelab.evaluation.molecules.novelty import canonical_set, novelty
from vaelab.evaluation.molecules.properties import PROPERTIES, property_distance
from vaelab.evaluation.molecules.reference import ReferenceStatistics, load_reference
from vaelab.evaluation.molecules.snn import snn
from vaelab.evaluation.molecules.uniqueness import fraction_unique
from vaelab.evaluation.molecules.validity import fraction_valid

UNIQUE_AT = (1000, 10000)


def molecule_metrics(
    generated: Sequence[str],
    reference: ReferenceStatistics | str | os.PathLike[str],
    train: Sequence[str] | None = None,
    *,
    n_jobs: int = 1,
    device: str | torch.device = "cpu",
    batch_size: int = 512,
) -> dict[str, float]:
    """The MOSES figures (module docstring) of the ``generated`` SMILES against ``reference``, the test
    set's statistics or the path of a file :func:`save_reference` wrote.

    ``train``: training SMILES for novelty, canonicalised here (3 minutes for MOSES's 1.6M, n_jobs=2);
    when None, the training set cached in the reference is used, if any. ``n_jobs`` processes run the
    RDKit work; ``device`` runs ChemNet and the fingerprint similarities; ``batch_size`` is ChemNet's.
    """
    if isinstance(generated, str) or not generated:
        raise UserError("give the generated molecules as a non-empty list of SMILES strings")
    if not isinstance(reference, ReferenceStatistics):
        reference = load_reference(reference)
    training = reference.training if train is None else canonical_set(train, n_jobs)
    features = molecule_features(generated, n_jobs=n_jobs)
    metrics = {"valid": fraction_valid(features.canonical)}
    valid = features.valid
    names = [f"unique@{k}" for k in UNIQUE_AT] + ["FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test"]
    names += ["IntDiv", "IntDiv2", "Filters", *PROPERTIES] + (["Novelty"] if training is not None else [])
    if len(valid) < 2:
        return metrics | dict.fromkeys(names, math.nan)
    for k in UNIQUE_AT:
        metrics[f"unique@{k}"] = fraction_unique(valid, k)
    metrics["FCD/Test"] = fcd(reference.chemnet, chemnet_moments(valid, batch_size, device))
    metrics["SNN/Test"] = snn(features.fingerprints, reference.fingerprints, device)
    metrics["Frag/Test"] = cosine_similarity(reference.fragments, features.fragments)
    metrics["Scaf/Test"] = cosine_similarity(reference.scaffolds, features.scaffolds)
    metrics["IntDiv"] = internal_diversity(features.fingerprints, 1, device)
    metrics["IntDiv2"] = internal_diversity(features.fingerprints, 2, device)
    assert features.passes_filters is not None  # molecule_features checks filters by default
    metrics["Filters"] = fraction_passing(features.passes_filters)
    for name in PROPERTIES:
        metrics[name] = property_distance(reference.properties[name], features.properties[name])
    if training is not None:
        metrics["Novelty"] = novelty(valid, training)
    return metrics
