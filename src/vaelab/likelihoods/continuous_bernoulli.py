"""Continuous Bernoulli likelihood for grey-level data in [0, 1].

Loaiza-Ganem & Cunningham 2019, "The continuous Bernoulli: fixing a pervasive error in variational
autoencoders": BCE on grey pixels omits the normalising constant C(lambda) (their eq. 7).
"""

from __future__ import annotations

import torch
from torch.distributions import ContinuousBernoulli

from vaelab.likelihoods.base import Likelihood


class ContinuousBernoulliLikelihood(Likelihood):
    name = "continuous-bernoulli"
    params_per_element = 1

    def element_distribution(self, eta: torch.Tensor) -> ContinuousBernoulli:
        (logits,) = self.split(eta)
        return ContinuousBernoulli(logits=logits, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if bool(((x < 0) | (x > 1)).any()):
            return "values outside [0, 1] found; rescale the data or use --likelihood gaussian"
        return None
