"""JointVAE: separate KL capacities for continuous and discrete latents (Dupont 2018)."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.distributions.one_hot_groups import JointLatent, joint_kl_parts, max_categorical_kl
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput
from vaelab.objectives.relaxed_elbo import Relaxation
from vaelab.posteriors.categorical import set_temperature


@dataclass(frozen=True)
class JointVAE(Relaxation):
    """Dupont 2018, eq. 7: the loss ``-E_q log p(x|z, c) + gamma |KL(q(z|x) || p(z)) - C_z|
    + gamma |KL(q(c|x) || p(c)) - C_c|``, with ``beta`` as gamma, ``capacity`` as C_z and ``discrete_capacity``
    as C_c; a training schedule ramps both from 0 (the capacity ramp of Burgess et al. 2018, as for
    ``ELBO.capacity``). C_c is capped at the largest KL the categoricals can reach, ``N log K`` (Dupont 2018,
    §3). Needs the ``joint`` posterior and prior; the codes are relaxed at a constant ``temperature`` 0.67 by
    default (Dupont 2018, appendix, after Maddison et al. 2017). Reports the ELBO with both KLs, and each
    (``continuous_kl``, ``discrete_kl``)."""

    beta: float = 30.0
    capacity: float = 5.0
    discrete_capacity: float = 5.0
    temperature: float = 0.67
    min_temperature: float = 0.67

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        set_temperature(model, self.temperature)
        out = model(batch)
        if not (isinstance(out.q_z, JointLatent) and isinstance(out.p_z, JointLatent)):
            raise UserError("the joint-vae objective needs the joint posterior and prior: use --model joint-vae")
        terms = elbo_terms(out)
        continuous_kl, discrete_kl = joint_kl_parts(out.q_z, out.p_z)  # (B,) each
        discrete_capacity = min(self.discrete_capacity, max_categorical_kl(out.q_z.discrete))
        penalty = (continuous_kl.mean() - self.capacity).abs() + (discrete_kl.mean() - discrete_capacity).abs()
        loss = -terms["reconstruction"].mean() + self.beta * penalty
        return ObjectiveOutput(loss, {**terms, "continuous_kl": continuous_kl, "discrete_kl": discrete_kl})
