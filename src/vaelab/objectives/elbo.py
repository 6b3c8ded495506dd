"""The ELBO with a KL weight (beta-VAE), free bits, or a KL capacity target."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaelab.data.batch import Batch
from vaelab.distributions import kl_per_dim
from vaelab.models import VAE, ModelPass, elbo_terms
from vaelab.objectives.base import ObjectiveOutput


@dataclass(frozen=True)
class ELBO:
    """Negative ELBO with a weighted KL term.

    - ``beta``: loss = -E_q log p(x|z) + beta KL (Higgins et al. 2017, eq. 4; beta = 1 is Kingma &
      Welling 2014, eq. 3).
    - ``free_bits`` = lambda > 0: each latent dimension's batch-mean KL is counted as at least lambda nats,
      ``sum_j max(lambda, E_B KL_j)`` (Kingma et al. 2016, "Improved variational inference with IAF",
      eq. 15). Needs a factorised posterior and prior.
    - ``capacity`` = C: loss = -E_q log p(x|z) + beta |KL - C| (Burgess et al. 2018, eq. 8; beta plays
      their gamma). A training schedule ramps C.
    """

    beta: float = 1.0
    free_bits: float = 0.0
    capacity: float | None = None

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        terms = elbo_terms(out)
        reconstruction, kl = terms["reconstruction"], terms["kl"]  # (B,) each
        if self.free_bits > 0:
            kl_penalty = self._free_bits_kl(out)
        elif self.capacity is not None:
            kl_penalty = (kl.mean() - self.capacity).abs()
        else:
            kl_penalty = kl.mean()
        loss = -reconstruction.mean() + self.beta * kl_penalty
        return ObjectiveOutput(loss, terms)

    def _free_bits_kl(self, out: ModelPass) -> torch.Tensor:
        return kl_per_dim(out.q_z, out.p_z, out.z).mean(0).clamp(min=self.free_bits).sum()
