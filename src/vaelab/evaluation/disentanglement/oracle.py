"""What the interventional scores (BetaVAE, FactorVAE) need from a dataset: draw factors, render them.

Those two scores are not functions of a fixed table of (codes, factors): they draw groups of examples
that share one factor's value, so they take a ``FactorOracle`` (the dataset's generator) and an
``encode`` function (the model). ``vaelab.data.shapes.ShapesOracle`` is one oracle; a test oracle whose
observations *are* the factors is another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

Encoder = Callable[[np.ndarray], np.ndarray]
"""Observations (B, ...) as the oracle returns them -> latent means (B, D)."""


class FactorOracle(Protocol):
    """A generator whose factors of variation are known (disentanglement_lib's ``GroundTruthData``)."""

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        """Number of values of each factor; factors are integer indices ``0 .. size - 1``."""
        ...

    def sample_factors(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``num`` factor vectors ``(num, K)`` int from the data distribution."""
        ...

    def observations(self, factors: np.ndarray) -> np.ndarray:
        """The observations ``(num, ...)`` for factor vectors ``(num, K)``."""
        ...


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
