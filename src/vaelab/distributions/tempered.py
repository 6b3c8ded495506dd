"""Sampling temperature: every discrete choice of a decoded distribution sharpened (or flattened).

At temperature τ a categorical with probabilities p_k draws k with probability p_k^(1/τ) / sum_j p_j^(1/τ),
that is ``softmax(log p / τ)`` (the softmax temperature of Hinton et al. 2015, "Distilling the knowledge in a
neural network", eq. 1, applied to a decoder's categories): τ = 1 is the model itself, τ < 1 favours the likely
values, τ = 0 takes the most probable one, as TVAE does when it samples (ctgan's ``TVAE.sample`` decodes each
category and each mode of a continuous column by argmax), and τ > 1 flattens. A Bernoulli is the two-category
case: ``sigmoid(l / τ)``. Continuous distributions are returned as they are.
"""

from __future__ import annotations

import torch
from torch.distributions import Bernoulli, Distribution, MixtureSameFamily

from vaelab.distributions.atom_mixture import AtomGaussianMixture
from vaelab.distributions.column_categoricals import ColumnCategoricals
from vaelab.distributions.softmax_categorical import SoftmaxCategorical


def sharpened(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Log-weights over the last dimension at ``temperature``; at 0 the most probable entries keep log-weight 0
    and every other one gets ``-inf`` (ties share the mass)."""
    if temperature > 0:
        return logits / temperature
    return torch.where(logits == logits.amax(-1, keepdim=True), 0.0, float("-inf"))


def tempered(distribution: Distribution, temperature: float) -> Distribution:
    """``distribution`` with its discrete choices at ``temperature`` (>= 0): the categories of a categorical,
    ordinal or Bernoulli element and the component of a mixture, an atom among them (the components are then
    sampled as they are). Any other distribution is returned unchanged."""
    if temperature < 0:
        raise ValueError(f"a sampling temperature is at least 0, not {temperature}")
    if temperature == 1:
        return distribution
    if isinstance(distribution, Bernoulli):
        logits = distribution.logits
        if temperature > 0:
            return Bernoulli(logits=logits / temperature, validate_args=False)
        mode = torch.where(logits > 0, float("inf"), torch.where(logits < 0, float("-inf"), 0.0))
        return Bernoulli(logits=mode, validate_args=False)
    if isinstance(distribution, ColumnCategoricals):
        return distribution.tempered(temperature)
    if isinstance(distribution, SoftmaxCategorical):  # IndexCategorical (ordinal levels) included
        return type(distribution)(sharpened(distribution.logits, temperature), validate_args=False)
    if isinstance(distribution, AtomGaussianMixture):
        return distribution.with_log_weights(sharpened(distribution.log_weights, temperature))
    if isinstance(distribution, MixtureSameFamily):
        weights = SoftmaxCategorical(sharpened(distribution.mixture_distribution.logits, temperature))
        return type(distribution)(weights, distribution.component_distribution, validate_args=False)
    return distribution
