"""The VQ-VAE objective (van den Oord et al. 2017, eq. 3), with the code prior trained in the same run."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput
from vaelab.posteriors.vector_quantizer import QuantizedCodes


def code_perplexity(indices: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """exp(H(p)) of the batch's average code use p_k = (1/N) #{c_j = k} over all its code positions, a
    scalar: 1 when one code takes every position, K when all K are used equally."""
    p = torch.bincount(indices.flatten(), minlength=codebook_size).double() / indices.numel()
    return torch.exp(-(p * p.clamp(min=1e-30).log()).sum())


@dataclass(frozen=True)
class VQVAE:
    """loss = -log p(x | z_q) + ``commitment`` ||z_e - sg(e)||^2 - log p(sg(c)) per example, batch mean.

    van den Oord et al. 2017, eq. 3 with beta = ``commitment`` (their 0.25): the codebook term is replaced by
    EMA updates of the codebook (appendix A.1, in ``VectorQuantizer``), and the autoregressive prior's
    negative log-likelihood of the (discrete, so gradient-free) indices c is added, which is the KL of the
    one-hot posterior, ``-log p(c)``. The encoder learns through the straight-through codes and the commitment
    term only. Terms: ``elbo`` (log p(x | z_q) + log p(c), a bound on log p(x)), ``reconstruction``, ``kl``
    (the prior's NLL of the codes), ``commitment`` (||z_e - sg(e)||^2 summed over the codes) and
    ``perplexity`` (the batch's codebook use, ``code_perplexity``, the same for every example).
    """

    commitment: float = 0.25

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        q_z = out.q_z
        if not isinstance(q_z, QuantizedCodes):
            raise UserError("the vq-vae objective needs the vector-quantized posterior: use --model vq-vae")
        terms = elbo_terms(out)
        commitment = (q_z.z_e - q_z.quantized).pow(2).sum(-1)  # (B,)
        perplexity = code_perplexity(q_z.indices, q_z.codebook_size)
        loss = -terms["elbo"].mean() + self.commitment * commitment.mean()
        terms |= {"commitment": commitment, "perplexity": perplexity.float().expand(len(commitment))}
        return ObjectiveOutput(loss, terms)
