"""The importance-weighted bound (IWAE) as a training objective."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaelab.models import VAE
from vaelab.objectives.base import ObjectiveOutput


@dataclass(frozen=True)
class IWAE:
    """``L_K = E[log (1/K) sum_k w_k]``, ``w_k = p(x, z_k) / q(z_k|x)`` (Burda et al. 2016, eq. 8).

    L_1 is the ELBO and L_K increases with K towards log p(x) (their Theorem 1). ``beta`` is accepted
    so KL schedules can drive it; with beta != 1 the weights become p(x|z) p(z)^beta / q(z|x)^beta.
    """

    num_samples: int = 5
    beta: float = 1.0

    def __call__(self, model: VAE, x: torch.Tensor, y: torch.Tensor | None = None) -> ObjectiveOutput:
        out = model(x, y, num_samples=self.num_samples)
        log_ratio = out.p_z.log_prob(out.z) - out.q_z.log_prob(out.z)  # (K, B)
        log_w = out.log_p_x + self.beta * log_ratio
        bound = torch.logsumexp(log_w, dim=0) - math.log(self.num_samples)  # (B,)
        reconstruction = out.log_p_x.mean(0)
        kl = -log_ratio.mean(0)  # Monte Carlo KL over the K samples
        terms = {"iwae": bound, "elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}
        return ObjectiveOutput(-bound.mean(), terms)
