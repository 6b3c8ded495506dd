"""Bernoulli likelihood with logits, for binary (or binarised) data."""

from __future__ import annotations

import torch
from torch.distributions import Bernoulli

from vaelab.likelihoods.base import Likelihood


class BernoulliLikelihood(Likelihood):
    name = "bernoulli"
    params_per_element = 1

    def element_distribution(self, *params: torch.Tensor) -> Bernoulli:
        (logits,) = params
        return Bernoulli(logits=logits, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if bool(((x != 0) & (x != 1)).any()):
            return "values other than 0 and 1 found; use --likelihood continuous-bernoulli for grey levels in [0, 1]"
        return None
