"""Bits per dimension: a negative log-likelihood in nats turned into a figure comparable with papers.

For data with ``L`` discrete levels a stored value ``k`` is the model-space value ``x = k / (L - 1)``
(see ``vaelab.data.dataset``). Two cases:

- **Probability mass** (Bernoulli, categorical, discretised logistic): ``-log p(x)`` already is the
  negative log-probability of the integers ``k``, in nats.
- **Probability density** over ``x`` in [0, 1] (Gaussian, continuous Bernoulli): the density of the
  integer-valued variable ``k = (L - 1) x`` follows from the change of variables
  ``p_k(k) = p_x(x) |dx/dk|^D = p_x(x) (L - 1)^-D``, so

      -log p(k) = -log p(x) + D log(L - 1)                                   (1)

  With unit-width bins around each integer this density is the usual approximation of the probability
  of ``k`` (Theis et al. 2016, "A note on the evaluation of generative models", §3.1). The test data are
  *not* dequantised (no uniform noise is added), so for a density that is peaked on the grid the figure
  can be optimistic; it is exact in the limit of a density that is constant within each bin.

Then ``bits/dim = -log p(k) / (D ln 2)`` with ``D`` the number of data elements.

Continuous data (no levels) have no bin width, so bits per dimension is not defined for them and is
omitted (None): a density's value depends on the units of the data.
"""

from __future__ import annotations

import math

import numpy as np

MASS_LIKELIHOODS = frozenset({"bernoulli", "categorical", "logistic"})
"""Likelihood names (``Likelihood.name``) whose ``log_prob`` is a log probability mass."""


def bits_per_dim(nll: np.ndarray, *, data_dim: int, levels: int | None, likelihood: str) -> np.ndarray | None:
    """Per-example bits per dimension from per-example ``nll`` (nats, (N,)); None for continuous data.

    ``levels`` is the number of discrete levels of the data (None when continuous), ``likelihood`` the
    likelihood's name; densities get the change of variables (1) of the module docstring.
    """
    if levels is None:
        return None
    if levels < 2:
        raise ValueError(f"discrete data need at least 2 levels, not {levels}")
    nll_discrete = nll if likelihood in MASS_LIKELIHOODS else nll + data_dim * math.log(levels - 1)
    return nll_discrete / (data_dim * math.log(2))


PROBABILITY_LIKELIHOODS = MASS_LIKELIHOODS | {"tokens", "edges"}
"""Likelihoods whose log p(x) is a log probability, never above 0; every other one holds a density."""


def density_note(likelihood: str, levels: int | None) -> str | None:
    """Why a log-likelihood above 0 nats (a negative NLL) is no error for a likelihood with a density, and what
    to compare instead; None for a likelihood of probabilities, where it cannot happen."""
    if likelihood in PROBABILITY_LIKELIHOODS:
        return None
    note = (
        f"a bound above 0 nats (a negative NLL) is expected here: the {likelihood} likelihood is a density over "
        "continuous values, not a probability, and its value depends on the data's units"
    )
    if levels is not None:
        note += (
            f"; for data of {levels} levels (8-bit images: 256) compare bits/dim, which vaelab eval reports, "
            "or train a discrete likelihood (--likelihood logistic)"
        )
    return note
