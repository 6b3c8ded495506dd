"""β-TCVAE: the KL term split into index-code mutual information, total correlation and dimension-wise KL."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch.distributions import Distribution, Independent

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput

ESTIMATORS = ("mss", "mws")


def _per_dimension(distribution: Distribution, role: str) -> Distribution:
    """The factorised distribution's per-dimension base, whose ``log_prob`` keeps the latent axis."""
    if not (isinstance(distribution, Independent) and distribution.reinterpreted_batch_ndims == 1):
        raise UserError(
            f"beta-tcvae needs a factorised {role} (independent latent dimensions), not {type(distribution).__name__}"
        )
    return distribution.base_dist


def log_importance_weights(batch_size: int, dataset_size: int, estimator: str, device: torch.device) -> torch.Tensor:
    """Log weights (B, B) of q(z_i|x_m) in the minibatch estimate of the aggregate posterior
    ``q(z_i) = (1/N) sum_n q(z_i|x_n) ~ sum_m W_im q(z_i|x_m)`` (Chen et al. 2018, §4.1 and Appendix C).

    - ``"mws"``, minibatch-weighted sampling: ``W_im = 1 / (N B)`` for every pair.
    - ``"mss"``, minibatch stratified sampling: example i's own posterior is one of the N terms,
      ``W_ii = 1/N``, and the other B - 1 examples, a uniform draw from the remaining N - 1, stand for the rest:
      ``W_im = (N - 1) / (N (B - 1))``. Each row sums to 1, and the estimate of q(z_i) is unbiased. (Chen et
      al.'s released weight matrix strides over columns instead of the diagonal: rtqichen/beta-tcvae#1.)
    """
    n, b = dataset_size, batch_size
    if estimator == "mws":
        return torch.full((b, b), -math.log(n * b), device=device)
    if b == 1:
        return torch.zeros((1, 1), device=device)
    weights = torch.full((b, b), (n - 1) / (n * (b - 1)), device=device)
    weights.fill_diagonal_(1 / n)
    return weights.log()


def kl_decomposition(
    q_z: Distribution, p_z: Distribution, z: torch.Tensor, dataset_size: int, estimator: str = "mss"
) -> dict[str, torch.Tensor]:
    """Per-example estimates (B,) of the three parts of ``E_x KL(q(z|x) || p(z))`` at codes ``z: (B, D)``
    drawn from the batch's posteriors ``q_z`` (Chen et al. 2018, eq. 2):

    - ``mutual_information`` = log q(z|x) - log q(z), the index-code mutual information I_q(z; n);
    - ``total_correlation`` = log q(z) - sum_j log q(z_j), KL(q(z) || prod_j q(z_j));
    - ``dimension_kl`` = sum_j log q(z_j) - log p(z_j), sum_j KL(q(z_j) || p(z_j)).

    They telescope: their sum is the Monte Carlo KL ``log q(z|x) - log p(z)`` at the same codes, whatever the
    minibatch estimator of q(z) and q(z_j).
    """
    q_dims, p_dims = _per_dimension(q_z, "posterior"), _per_dimension(p_z, "prior")
    log_q_pairs = q_dims.log_prob(z.unsqueeze(1))  # log q(z_ij | x_m), (B_i, B_m, D)
    log_w = log_importance_weights(len(z), dataset_size, estimator, z.device).to(z.dtype)  # (B_i, B_m)
    log_q_joint = torch.logsumexp(log_q_pairs.sum(-1) + log_w, dim=1)  # log q(z_i), (B,)
    log_q_marginals = torch.logsumexp(log_q_pairs + log_w.unsqueeze(-1), dim=1).sum(-1)  # sum_j log q(z_ij), (B,)
    log_q_own = torch.diagonal(log_q_pairs).sum(0)  # log q(z_i | x_i), (B,)
    log_p = p_dims.log_prob(z).sum(-1)  # log p(z_i), (B,)
    return {
        "mutual_information": log_q_own - log_q_joint,
        "total_correlation": log_q_joint - log_q_marginals,
        "dimension_kl": log_q_marginals - log_p,
    }


@dataclass(frozen=True)
class BetaTCVAE:
    """``loss = -E_q log p(x|z) + alpha I_q(z; n) + beta TC(z) + gamma sum_j KL(q(z_j) || p(z_j))``
    (Chen et al. 2018, eq. 4), each term estimated on the minibatch by ``kl_decomposition``.

    alpha = beta = gamma = 1 is the ELBO with a Monte Carlo KL; Chen et al. keep alpha = gamma = 1 and raise
    beta (6 here) to penalise only the total correlation. ``tc_estimator`` is ``"mss"`` (stratified, default)
    or ``"mws"``; both need the training-set size N, which ``fit`` fills in through ``bind``.
    """

    beta: float = 6.0
    alpha: float = 1.0
    gamma: float = 1.0
    tc_estimator: str = "mss"
    dataset_size: int | None = None

    def __post_init__(self) -> None:
        if self.tc_estimator not in ESTIMATORS:
            raise UserError(f"unknown beta-tcvae estimator {self.tc_estimator!r}; use one of {', '.join(ESTIMATORS)}")

    def bind(self, model: VAE, num_examples: int) -> BetaTCVAE:
        return self if self.dataset_size is not None else dataclasses.replace(self, dataset_size=num_examples)

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        if self.dataset_size is None:
            raise UserError("BetaTCVAE needs dataset_size (the number of training examples); fit() sets it")
        out = model(batch)
        parts = kl_decomposition(out.q_z, out.p_z, out.z[0], self.dataset_size, self.tc_estimator)
        terms = elbo_terms(out)
        penalty = (
            self.alpha * parts["mutual_information"]
            + self.beta * parts["total_correlation"]
            + self.gamma * parts["dimension_kl"]
        )
        return ObjectiveOutput(-terms["reconstruction"].mean() + penalty.mean(), {**terms, **parts})
