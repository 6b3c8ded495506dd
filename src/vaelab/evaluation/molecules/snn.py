"""Similarity to a nearest neighbour, SNN (Polykovskiy et al. 2020, "Molecular Sets (MOSES)", §3.2):

    SNN(G, R) = (1/|G|) Σ_{m_G ∈ G} max_{m_R ∈ R} T(m_G, m_R)

T is the Tanimoto similarity of Morgan fingerprints (radius 2, 1024 bits; :mod:`fingerprints`), G the
valid generated molecules (duplicates included) and R the reference (test) set. In [0, 1]; higher means
the generated molecules lie closer to the reference ones.
"""

from __future__ import annotations

import numpy as np
import torch

from vaelab.evaluation.molecules.tanimoto import max_similarity


def snn(generated: np.ndarray, reference: np.ndarray, device: str | torch.device = "cpu") -> float:
    """SNN of packed fingerprints ``generated`` (N, 128) against ``reference`` (M, 128)."""
    return float(max_similarity(generated, reference, device).mean())
