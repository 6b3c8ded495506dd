"""Internal diversity, IntDiv_p (Benhenda 2017, "ChemGAN challenge for drug discovery"; MOSES §3.2),
as MOSES computes it (``internal_diversity`` and ``average_agg_tanimoto(agg='mean', p=p)``):

    IntDiv_p(G) = 1 - (1/|G|) Σ_{m_1 ∈ G} ( (1/|G|) Σ_{m_2 ∈ G} T(m_1, m_2)^p )^{1/p}

over all ordered pairs of the valid generated molecules, a molecule with itself and duplicates included.
The paper writes 1 - ((1/|G|²) Σ T^p)^{1/p}; for p = 1 the two agree, for p = 2 MOSES's code (above),
which produced its published IntDiv2 figures, takes the root per molecule before averaging, and so does
this function. In [0, 1]; 0 when every molecule is the same, higher is more diverse.
"""

from __future__ import annotations

import numpy as np
import torch

from vaelab.evaluation.molecules.tanimoto import mean_similarity_power


def internal_diversity(fingerprints: np.ndarray, p: int = 1, device: str | torch.device = "cpu") -> float:
    """IntDiv_p of packed fingerprints (N, 128); MOSES reports p = 1 (IntDiv) and p = 2 (IntDiv2)."""
    mean_power = mean_similarity_power(fingerprints, fingerprints, p, device)
    return float(1 - (mean_power ** (1 / p)).mean())
