"""The adversarial autoencoder: a discriminator matches the aggregate posterior q(z) to the prior p(z)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from vaelab.data.batch import Batch
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.adversarial import WithDiscriminator
from vaelab.objectives.base import ObjectiveOutput


@dataclass(frozen=True, kw_only=True)
class AdversarialAutoencoder(WithDiscriminator):
    """``loss = -E_q log p(x|z) + adversarial_weight E_q [-log D(z)]`` (Makhzani et al. 2016, §2).

    The KL term of the ELBO is replaced by a game: the discriminator learns to tell prior codes z ~ p(z)
    (label 1) from codes of the aggregate posterior q(z) = E_x q(z|x) (label 0), and the encoder, through
    the reparameterised z, learns to be mistaken for the prior with the non-saturating generator loss
    -log D(z) (Goodfellow et al. 2014, §3). Makhzani et al. alternate reconstruction and regularisation
    phases with SGD; here both terms share the VAE's step, weighted by ``adversarial_weight``, and the
    discriminator (two layers of 1000 units, as in their MNIST model) has its own Adam optimizer. The ELBO
    terms are still reported, so runs stay comparable with VAEs.
    """

    adversarial_weight: float = 1.0
    discriminator_hidden: tuple[int, ...] = (1000, 1000)

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        terms = elbo_terms(out)
        adversarial = F.softplus(-self.judge(out.z[0]))  # -log D(z), (B,)
        loss = -terms["reconstruction"].mean() + self.adversarial_weight * adversarial.mean()
        return ObjectiveOutput(loss, {**terms, "adversarial": adversarial})

    def discriminator_loss(self, model: VAE, batch: Batch) -> torch.Tensor:
        with torch.no_grad():
            z_q = model.encode(batch.x, batch.y, batch.mask).sample()  # (B, D)
            z_p = model.p_z().sample((len(z_q),))  # (B, D)
        return self.classify(z_p, z_q)
