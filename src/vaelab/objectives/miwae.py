"""MIWAE, Rainforth et al. 2018's multiply importance-weighted bound: the average of M independent IWAE bounds
of K samples each.

Not Mattei & Frellsen 2019's MIWAE ("missing IWAE"), which is the IWAE bound on data with missing entries
(the likelihood summed over the observed ones only). The name ``miwae`` stays with this bound so that saved
runs load as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.objectives.base import ObjectiveOutput
from vaelab.objectives.iwae import importance_log_weights, iwae_bound, sampled_elbo_terms


@dataclass(frozen=True)
class MIWAE:
    """``L = (1/M) sum_m log (1/K) sum_k w_mk`` with M K codes per example (Rainforth et al. 2018, "Tighter
    variational bounds are not necessarily better", §4, MIWAE). M = 1 is IWAE_K and K = 1 the M-sample ELBO;
    for a fixed budget M K, a larger M gives the encoder a better gradient signal-to-noise ratio and a
    larger K a tighter bound for the decoder. ``beta`` and ``gradient`` act as in ``IWAE``."""

    num_bounds: int = 8
    num_samples: int = 8
    beta: float = 1.0
    gradient: str = "standard"

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out, log_w, log_ratio = importance_log_weights(
            model, batch, self.num_bounds, self.num_samples, self.beta, self.gradient
        )
        bound = iwae_bound(log_w).mean(0)  # (B,)
        return ObjectiveOutput(-bound.mean(), {"miwae": bound, **sampled_elbo_terms(out, log_ratio)})
