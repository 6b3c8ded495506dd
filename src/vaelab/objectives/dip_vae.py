"""DIP-VAE: the ELBO plus a penalty pushing the covariance of the inferred codes towards the identity."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Distribution

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput

VARIANTS = ("i", "ii")


def code_covariance(q_z: Distribution, variant: str) -> torch.Tensor:
    """The batch estimate (D, D) of the covariance DIP-VAE matches to the identity (Kumar et al. 2018, §3):

    - ``"i"``: ``Cov_p(x)[mu(x)]``, the covariance of the posterior means (their eq. 6);
    - ``"ii"``: ``Cov_q(z)[z] = E_p(x)[Sigma(x)] + Cov_p(x)[mu(x)]``, the aggregate posterior's covariance
      (their eq. 7), with Sigma(x) the posterior's (diagonal) covariance.

    Expectations over p(x) are batch means (divisor B), as in disentanglement_lib.
    """
    if variant not in VARIANTS:
        raise UserError(f"unknown DIP-VAE variant {variant!r}; use one of {', '.join(VARIANTS)}")
    try:
        mean = q_z.mean  # (B, D)
        variance = q_z.variance if variant == "ii" else None  # (B, D)
    except NotImplementedError:
        moments = "mean and variance" if variant == "ii" else "mean"
        raise UserError(
            f"DIP-VAE-{variant.upper()} needs the posterior's {moments}, which {type(q_z).__name__} does not give; "
            "use a Gaussian posterior" + (" or objective.dip_variant=i" if variant == "ii" else "")
        ) from None
    centred = mean - mean.mean(0)
    covariance = centred.T @ centred / len(mean)  # (D, D)
    if variance is not None:
        covariance = covariance + torch.diag(variance.mean(0))
    return covariance


def dip_penalty(covariance: torch.Tensor, lambda_offdiag: float, lambda_diag: float) -> torch.Tensor:
    """``lambda_od sum_{i != j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2`` (Kumar et al. 2018, eqs. 6 and 7)."""
    diagonal = torch.diagonal(covariance)
    off_diagonal = covariance - torch.diag(diagonal)
    return lambda_offdiag * off_diagonal.pow(2).sum() + lambda_diag * (diagonal - 1).pow(2).sum()


@dataclass(frozen=True)
class DIPVAE:
    """``loss = -ELBO_beta + dip_penalty(code_covariance(q, variant))`` (Kumar et al. 2018, "Variational
    inference of disentangled latent concepts from unlabeled observations").

    Defaults: DIP-VAE-I with lambda_od = 10; lambda_d defaults to 10 lambda_od for DIP-VAE-I and to lambda_od
    for DIP-VAE-II, the ratios of the runs of Locatello et al. 2019 (disentanglement_lib). The
    penalty is a batch quantity, reported per example as ``dip`` (the batch's value for each example).
    Needs a posterior with ``mean`` and a diagonal ``variance`` (Gaussian posteriors).
    """

    lambda_offdiag: float = 10.0
    lambda_diag: float | None = None  # None: 10 lambda_od for DIP-VAE-I, lambda_od for DIP-VAE-II
    dip_variant: str = "i"
    beta: float = 1.0

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        terms = elbo_terms(out)
        lambda_diag = self.lambda_diag
        if lambda_diag is None:
            lambda_diag = (10.0 if self.dip_variant == "i" else 1.0) * self.lambda_offdiag
        penalty = dip_penalty(code_covariance(out.q_z, self.dip_variant), self.lambda_offdiag, lambda_diag)
        loss = -terms["reconstruction"].mean() + self.beta * terms["kl"].mean() + penalty
        return ObjectiveOutput(loss, {**terms, "dip": penalty.expand(len(batch))})
