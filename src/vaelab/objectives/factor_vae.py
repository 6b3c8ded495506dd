"""FactorVAE: the ELBO plus a total-correlation penalty estimated by a discriminator."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaelab.data.batch import Batch
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.adversarial import WithDiscriminator
from vaelab.objectives.base import ObjectiveOutput


def permute_dims(z: torch.Tensor) -> torch.Tensor:
    """Shuffle each latent dimension of ``z: (B, D)`` across the batch with its own random permutation
    (Kim & Mnih 2018, Algorithm 1): rows of the result are samples of prod_j q(z_j)."""
    order = torch.argsort(torch.rand(z.shape, device=z.device), dim=0)  # one permutation per column, (B, D)
    return torch.gather(z, 0, order)


@dataclass(frozen=True, kw_only=True)
class FactorVAE(WithDiscriminator):
    """``loss = -E_q log p(x|z) + beta KL(q(z|x) || p(z)) + gamma TC`` (Kim & Mnih 2018, eq. 2, beta = 1).

    The total correlation ``TC = KL(q(z) || prod_j q(z_j))`` is estimated by the density-ratio trick,
    ``TC ~ E_q(z) log D(z) / (1 - D(z))`` (their eq. 3): the discriminator's logit, per example. The
    discriminator learns to tell codes of q(z) (label 1) from dimension-wise permuted codes (label 0) with
    its own Adam optimizer (lr 1e-4, betas (0.5, 0.9), six layers of 1000 units: their Appendix); gamma = 40
    is their dSprites setting.
    """

    gamma: float = 40.0
    beta: float = 1.0

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        terms = elbo_terms(out)
        total_correlation = self.judge(out.z[0])  # (B,) log D(z) / (1 - D(z))
        loss = -terms["reconstruction"].mean() + self.beta * terms["kl"].mean() + self.gamma * total_correlation.mean()
        return ObjectiveOutput(loss, {**terms, "total_correlation": total_correlation})

    def discriminator_loss(self, model: VAE, batch: Batch) -> torch.Tensor:
        """Kim & Mnih 2018, Algorithm 2: codes of one minibatch against permuted codes of an independent
        second minibatch. The two halves of the (randomly drawn) batch are the two minibatches; an odd
        batch shares its middle example, so a batch of one still gives a finite loss."""
        with torch.no_grad():
            z = model.encode(batch.x, batch.y, batch.mask).sample()  # (B, D)
        half = (len(z) + 1) // 2
        return self.classify(z[:half], permute_dims(z[len(z) // 2 :]))
