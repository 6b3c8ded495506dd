"""Datasets whose generating factors are known: what the disentanglement metrics need from them.

The interventional scores (BetaVAE, FactorVAE) draw groups of examples that share one factor's value,
so a dataset with known factors carries a ``FactorOracle`` (its generator) besides the factor indices
of its own rows. ``vaelab.data.shapes.ShapesOracle`` is one oracle; a test oracle whose observations
*are* the factors is another.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


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
        """The observations ``(num, ...)`` for factor vectors ``(num, K)``, stored as the dataset stores
        its rows."""
        ...
