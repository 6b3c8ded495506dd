"""The denoising variational lower bound (DVAE): encode a corrupted input, score the clean one."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.data.corruption import Corruption
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput, single_process


@dataclass(frozen=True)
class DenoisingELBO:
    """Negative denoising variational lower bound with a weighted KL term (Im, Ahn, Memisevic & Bengio 2017,
    "Denoising criterion for variational auto-encoding framework", AAAI; their L_dvae):

        L_dvae(x) = E_{p(x~|x)} E_{q(z|x~)} [log p(x, z) / q(z|x~)]
                  = E_{p(x~|x)} [E_{q(z|x~)} log p(x|z) - KL(q(z|x~) || p(z))],

    estimated with one draw x~ ~ p(x~|x) (``corruption``) and one z ~ q(z|x~) per example. For each x~,
    q(z|x~) is a variational distribution for the clean x, so every term is an ELBO of x and
    L_dvae <= log p(x). loss = -E log p(x|z) + beta KL (beta = 1: the bound itself; ``beta`` as in ``ELBO``,
    so KL schedules drive it).

    Only a model in training mode sees corrupted inputs; in evaluation mode (validation, ``model.eval()``)
    this is the plain ELBO of the clean batch, so validation figures compare with any other objective's.
    The condition, if any, is passed as given. Single-process training only: the pass goes through
    ``model.encode`` and ``model.pass_from``, which a ``DistributedDataParallel`` wrapper does not offer.
    """

    corruption: Corruption | None = None
    beta: float = 1.0

    def __post_init__(self) -> None:
        if self.corruption is None:
            raise UserError(
                "the denoising objective needs a corruption: set objective.corruption=gaussian:0.3 or similar"
            )

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        single_process(model, "denoising")
        if model.training:
            assert self.corruption is not None  # checked in __post_init__
            q_z = model.encode(self.corruption(batch.x), batch.y, batch.mask)  # q(z|x~), batch (B,)
            out = model.pass_from(q_z, batch, 1)  # log p(x|z) of the clean batch, (1, B)
        else:
            out = model(batch)
        terms = elbo_terms(out)  # (B,) each
        loss = -terms["reconstruction"].mean() + self.beta * terms["kl"].mean()
        return ObjectiveOutput(loss, terms)
