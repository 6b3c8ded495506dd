"""What the interventional scores (BetaVAE, FactorVAE) take: a ``FactorOracle`` (the dataset's
generator, defined in ``vaelab.data.factors``) and an ``encode`` function (the model)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vaelab.data.factors import FactorOracle

Encoder = Callable[[np.ndarray], np.ndarray]
"""Observations (B, ...) as the oracle returns them -> latent means (B, D)."""


def encode_factors(oracle: FactorOracle, encode: Encoder, factors: np.ndarray, chunk_size: int) -> np.ndarray:
    """Codes (N, D) float64 of the observations of ``factors`` (N, K), ``chunk_size`` at a time at most."""
    parts = []
    for start in range(0, factors.shape[0], chunk_size):
        chunk = factors[start : start + chunk_size]
        codes = np.asarray(encode(oracle.observations(chunk)), dtype=np.float64)
        if codes.ndim != 2 or codes.shape[0] != chunk.shape[0]:
            raise ValueError(
                f"encode must return latent means of shape (B, D) for B = {chunk.shape[0]} observations, "
                f"got shape {codes.shape}"
            )
        parts.append(codes)
    return np.concatenate(parts)
