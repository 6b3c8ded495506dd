"""Fréchet ChemNet Distance, FCD (Preuer et al. 2018, J. Chem. Inf. Model. 58:1736; MOSES §3.2): the
Fréchet distance between Gaussians fitted to the ChemNet activations (:mod:`chemnet`) of the reference
and of the valid generated molecules,

    FCD = ||μ_R - μ_G||² + Tr(Σ_R + Σ_G - 2 (Σ_R Σ_G)^{1/2})

(computed by :func:`vaelab.evaluation.sample_quality.frechet_distance_from_moments`), with μ the mean
and Σ the unbiased covariance (``np.cov``) of the 512 activations. Lower is better, 0 for equal moments.
FCD depends on the sample size (the estimated covariance of a small sample is biased), so compare
figures only at equal sample sizes: MOSES scores 30,000 generated molecules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vaelab.evaluation.molecules.chemnet import ACTIVATIONS, chemnet_activations
from vaelab.evaluation.sample_quality import frechet_distance_from_moments


@dataclass(frozen=True)
class ChemNetMoments:
    """Mean (512,) and unbiased covariance (512, 512), float64, of a set's ChemNet activations."""

    mean: np.ndarray
    covariance: np.ndarray


def chemnet_moments(smiles: Sequence[str], batch_size: int = 512, device: str | torch.device = "cpu") -> ChemNetMoments:
    """Moments of the activations of canonical SMILES, accumulated batch by batch in float64, so memory
    stays at one batch whatever the set size (the 176k test molecules would take 360 MB at once)."""
    if len(smiles) < 2:
        raise ValueError(f"the FCD needs at least 2 molecules for a covariance, got {len(smiles)}")
    total = torch.zeros(ACTIVATIONS, dtype=torch.float64)
    products = torch.zeros(ACTIVATIONS, ACTIVATIONS, dtype=torch.float64)
    for batch in chemnet_activations(smiles, batch_size, device):
        batch = batch.double().cpu()
        total += batch.sum(0)
        products += batch.T @ batch
    n = len(smiles)
    mean = total / n
    covariance = (products - n * torch.outer(mean, mean)) / (n - 1)
    return ChemNetMoments(mean.numpy(), covariance.numpy())


def fcd(reference: ChemNetMoments, generated: ChemNetMoments) -> float:
    """FCD between the moments of the reference and of the generated set (module docstring)."""
    return frechet_distance_from_moments(reference.mean, reference.covariance, generated.mean, generated.covariance)
