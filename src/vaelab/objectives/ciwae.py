"""CIWAE: a convex combination of the ELBO and the IWAE bound computed from the same K samples."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.objectives.base import ObjectiveOutput
from vaelab.objectives.iwae import importance_log_weights, iwae_bound, sampled_elbo_terms


@dataclass(frozen=True)
class CIWAE:
    """``L = c ELBO_K + (1 - c) IWAE_K`` with ``ELBO_K = (1/K) sum_k log w_k`` and ``IWAE_K = log (1/K)
    sum_k w_k`` on the same samples (Rainforth et al. 2018, §4, CIWAE; their beta is ``elbo_weight`` here,
    so that ``beta`` stays the KL weight inside the weights that KL schedules drive, as in ``IWAE``)."""

    num_samples: int = 64
    elbo_weight: float = 0.5
    beta: float = 1.0

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out, log_w, log_ratio = importance_log_weights(model, batch, 1, self.num_samples, self.beta)
        iwae = iwae_bound(log_w)[0]  # (B,)
        bound = self.elbo_weight * log_w[0].mean(0) + (1 - self.elbo_weight) * iwae  # (B,)
        terms = {"ciwae": bound, "iwae": iwae, **sampled_elbo_terms(out, log_ratio)}
        return ObjectiveOutput(-bound.mean(), terms)
