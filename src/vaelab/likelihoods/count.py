"""Count likelihoods: Poisson and negative binomial, for non-negative integer columns."""

from __future__ import annotations

import torch
from torch.distributions import Distribution, NegativeBinomial, Poisson

from vaelab.likelihoods.base import Likelihood
from vaelab.likelihoods.gaussian import positive_scale


def _count_problem(x: torch.Tensor) -> str | None:
    if bool(((x < 0) | (x != x.round())).any()):
        return "a count column holds a negative or fractional value"
    return None


class PoissonLikelihood(Likelihood):
    """``Poisson(rate)`` with ``rate = softplus(eta) + min_rate``."""

    name = "poisson"
    params_per_element = 1

    def __init__(self, data_shape: tuple[int, ...], min_rate: float = 1e-4) -> None:
        super().__init__(data_shape)
        self.min_rate = min_rate

    def element_distribution(self, eta: torch.Tensor) -> Distribution:
        (raw,) = self.split(eta)
        return Poisson(positive_scale(raw, self.min_rate), validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        return _count_problem(x)


class NegativeBinomialLikelihood(Likelihood):
    """``NegativeBinomial(total_count r, logits)``: mean ``r e^logits``, variance ``mean (1 + e^logits)``, so
    over-dispersed counts (variance above the mean) fit where a Poisson cannot; ``r = softplus + min``."""

    name = "negative-binomial"
    params_per_element = 2

    def __init__(self, data_shape: tuple[int, ...], min_total_count: float = 1e-3) -> None:
        super().__init__(data_shape)
        self.min_total_count = min_total_count

    def element_distribution(self, eta: torch.Tensor) -> Distribution:
        raw_count, logits = self.split(eta)
        total_count = positive_scale(raw_count, self.min_total_count)
        return NegativeBinomial(total_count, logits=logits, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        return _count_problem(x)
