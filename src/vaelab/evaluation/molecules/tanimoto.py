"""Tanimoto similarities between two sets of packed fingerprints, in blocks, reduced per query molecule.

    T(a, b) = |a ∧ b| / |a ∨ b| = c / (|a| + |b| - c),   c = |a ∧ b|

with T = 1 when both fingerprints are empty (MOSES, ``average_agg_tanimoto``, sets 0/0 to 1).

For a block of query and reference molecules, every pairwise ``c`` is one matrix product of the unpacked
0/1 fingerprints in float32, which is exact (the counts are integers ≤ 1024 < 2^24) and runs at the
speed of the BLAS: 30,000 × 176,000 pairs took 2.4 minutes on two shared cores. Only one block of similarities
(``QUERY_BLOCK`` × ``REFERENCE_BLOCK`` float32, 64 MiB, and a few temporaries of that size) exists at a
time, whatever the set sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from vaelab.evaluation.molecules.fingerprints import unpack

QUERY_BLOCK = 2048
REFERENCE_BLOCK = 8192


def _as_float(packed: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(unpack(packed)).to(device=device, dtype=torch.float32)


def _blocks(query: np.ndarray, reference: np.ndarray, device: torch.device) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (rows of ``query``, their similarities to a block of ``reference`` (rows, block))."""
    for start in range(0, len(query), QUERY_BLOCK):
        rows = slice(start, start + QUERY_BLOCK)
        q = _as_float(query[rows], device)  # (Q, BITS)
        q_count = q.sum(1, keepdim=True)  # (Q, 1)
        empty = q_count.squeeze(1) == 0  # never true for a molecule with atoms, kept for MOSES's 0/0 = 1
        any_empty = bool(empty.any())
        for ref_start in range(0, len(reference), REFERENCE_BLOCK):
            r = _as_float(reference[ref_start : ref_start + REFERENCE_BLOCK], device)  # (R, BITS)
            r_count = r.sum(1)  # (R,)
            similarity = q @ r.T  # (Q, R), c; then, in place (a third of the time otherwise), c / |a ∨ b|
            similarity.div_((q_count + r_count).sub_(similarity).clamp_min_(1))
            if any_empty:
                similarity[empty] = (r_count == 0).to(similarity.dtype)
            yield rows, similarity


@torch.inference_mode()
def max_similarity(query: np.ndarray, reference: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
    """For each query fingerprint, its largest Tanimoto similarity to a reference one, float64 (N,)."""
    best = torch.zeros(len(query), dtype=torch.float32, device=device)
    for rows, similarity in _blocks(query, reference, torch.device(device)):
        best[rows] = torch.maximum(best[rows], similarity.amax(1))
    return best.cpu().double().numpy()


@torch.inference_mode()
def mean_similarity_power(
    query: np.ndarray, reference: np.ndarray, p: float = 1.0, device: str | torch.device = "cpu"
) -> np.ndarray:
    """For each query fingerprint, the mean over the reference ones of T^p, float64 (N,)."""
    total = torch.zeros(len(query), dtype=torch.float64, device=device)
    for rows, similarity in _blocks(query, reference, torch.device(device)):
        total[rows] += (similarity if p == 1 else similarity.pow_(p)).sum(1, dtype=torch.float64)
    return (total / len(reference)).cpu().numpy()
