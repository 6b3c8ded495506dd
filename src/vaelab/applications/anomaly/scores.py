"""Per-row scores of a trained VAE, higher = more normal, in nats.

Every score draws its posterior samples with common random numbers: one fixed set of standard-normal
draws ``eps: (S, D_z)`` is shared by all rows, and row i uses ``z_s = mu(x_i) + sigma(x_i) * eps_s`` (the
reparameterisation of Kingma & Welling 2014, sec. 2.4). Each row's estimate is still an ordinary Monte
Carlo estimate over S independent draws, but a row's score no longer depends on which other rows share
its batch, and two rows are compared under the same draws, so the noise in their *difference* (what a
ranking sees) shrinks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import kl_divergence

from vaelab.distributions import log_mean_exp
from vaelab.models import VAE, ModelPass, elbo_terms

ScoreFunction = Callable[[VAE, torch.Tensor, torch.Tensor, float], torch.Tensor]  # (model, x, eps, kl_weight) -> (B,)


def posterior_pass(model: VAE, x: torch.Tensor, eps: torch.Tensor) -> ModelPass:
    """One pass through ``model`` with the shared draws ``eps: (S, D_z)`` (requires a location-scale
    posterior such as the diagonal Gaussian)."""
    q_z = model.encode(x)  # batch (B,), event (D_z,)
    z = q_z.mean + q_z.stddev * eps[:, None, :]  # (S, B, D_z)
    p_x = model.decode(z)
    return ModelPass(q_z=q_z, p_z=model.p_z(), z=z, p_x=p_x, log_p_x=p_x.log_prob(x))


def elbo(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """The ELBO, ``(1/S) sum_s log p(x|z_s) - KL(q(z|x) || p(z))`` (Kingma & Welling 2014, eq. 7: the
    KL in closed form, the reconstruction term by Monte Carlo), (B,): ``weighted_elbo`` with w = 1."""
    return weighted_elbo(model, x, eps)


def weighted_elbo(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """``(1/S) sum_s log p(x|z_s) - w KL(q(z|x) || p(z))`` with ``w = kl_weight``, (B,): minus the distortion
    and w times the rate, ``-(D + w R)`` in the rate-distortion terms of Alemi et al. 2018 ("Fixing a broken
    ELBO"). With w = beta it is the beta-VAE objective (Higgins et al. 2017, eq. 4) that a model
    trained with KL weight beta maximises; w = 1 is the ELBO; w > 1 ranks rows more by their rate, the nats
    their code costs (see ``kl``), and, as the KL is never negative, still bounds log p(x) from below."""
    terms = elbo_terms(posterior_pass(model, x, eps))
    return terms["reconstruction"] - kl_weight * terms["kl"]


def iwae(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """The importance-weighted estimate of log p(x), ``log (1/K) sum_k p(x, z_k) / q(z_k|x)`` with
    K = S (Burda et al. 2016, eq. 8); it tightens towards log p(x) as K grows, (B,)."""
    log_w = posterior_pass(model, x, eps).log_weights()  # (K, B)
    return log_mean_exp(log_w, dim=0)


def reconstruction(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """The expected reconstruction log-likelihood ``E_q(z|x) log p(x|z)`` (the "reconstruction
    probability" of An & Cho 2015, Algorithm 4, averaged in log space), (B,)."""
    return posterior_pass(model, x, eps).log_p_x.mean(0)


def kl(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """``-KL(q(z|x) || p(z))`` in closed form (Kingma & Welling 2014, appendix B), (B,): minus the rate, the
    nats the encoder spends on describing x. Rows unlike the training data get codes far from the prior
    or unusually precise ones, so a high rate marks them (the rate as an out-of-distribution signal:
    Alemi, Fischer & Dillon 2018, "Uncertainty in the variational information bottleneck")."""
    return -kl_divergence(model.encode(x), model.p_z())


def latent_density(model: VAE, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
    """``log p(z = E_q[z|x])``: the prior density at the posterior mean (codes far out in the latent
    space are unusual), (B,)."""
    return model.p_z().log_prob(model.encode(x).mean)


SCORES: dict[str, ScoreFunction] = {
    "rate-weighted": weighted_elbo,
    "beta-elbo": weighted_elbo,
    "elbo": elbo,
    "iwae": iwae,
    "reconstruction": reconstruction,
    "kl": kl,
    "latent-density": latent_density,
}
"""Score name -> function ``(model, x, eps, kl_weight) -> (B,)``; higher means more normal. Only the two
weighted ELBOs use ``kl_weight``: the detector passes its ``rate_weight`` for "rate-weighted" and the KL
weight the model was trained with (``beta``) for "beta-elbo"."""

DEFAULT_SAMPLES: dict[str, int] = {
    "rate-weighted": 16,
    "beta-elbo": 16,
    "elbo": 16,
    "iwae": 64,
    "reconstruction": 16,
    "kl": 1,
    "latent-density": 1,
}
"""Posterior samples S per row when the user gives none (the deterministic latent scores need none)."""


@torch.inference_mode()
def score_rows(
    model: VAE, x: torch.Tensor, score: str, eps: torch.Tensor, kl_weight: float = 1.0, max_elements: int = 1 << 22
) -> torch.Tensor:
    """``SCORES[score]`` over ``x: (N, *shape)`` in chunks of rows, so memory stays bounded for any N and S:
    a chunk holds at most ``max_elements`` decoder outputs (rows x samples x elements per row)."""
    step = max(1, model.rows_per_chunk(max_elements) // len(eps))
    function = SCORES[score]
    return torch.cat([function(model, x[start : start + step], eps, kl_weight) for start in range(0, len(x), step)])
