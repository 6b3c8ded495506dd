"""Latent diagnostics: KL per dimension, active units, I(x; z) under the aggregate posterior, collapse.

- **KL per dimension**: ``E_x KL(q(z_j|x) || p(z_j))`` for a factorised posterior and prior, in nats;
  the dimensions sum to the KL term of the ELBO.
- **Active units** (Burda et al. 2016, "Importance weighted autoencoders", §5.2): dimension j is active
  when ``A_j = Cov_x(E_{q(z|x)}[z_j]) > 0.01``: its posterior mean moves with the input.
- **Mutual information** between x and z when x is drawn uniformly from the N evaluated examples and
  z ~ q(z|x), with the aggregate posterior ``q(z) = (1/N) Σ_n q(z|x_n)`` (Hoffman & Johnson 2016, "ELBO
  surgery", eq. 4, which also gives ``E_x KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z))``):

      I(x; z) = E_x E_{q(z|x)} [log q(z|x) - log q(z)]
              ≈ (1/N) Σ_i [log q(z_i|x_i) - log (1/N) Σ_j q(z_i|x_j)],   z_i ~ q(z|x_i)

  the estimator of He et al. 2019 ("Lagging inference networks", §5), over all N² pairs in chunks. It
  cannot exceed log N; ``aggregate_kl`` is the matching estimate of ``KL(q(z) || p(z))``.
- **Posterior collapse**: a plain-words warning when fewer than a quarter of the dimensions are active.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.distributions import Distribution, Independent

from vaelab.data.batch import dataset_batches
from vaelab.data.dataset import ArrayDataset
from vaelab.distributions import kl_per_dim
from vaelab.errors import UserError
from vaelab.evaluation.inputs import EVAL_BATCH, model_device
from vaelab.models import VAE
from vaelab.posteriors.point import PointPosterior

ACTIVE_THRESHOLD = 0.01
"""Burda et al. 2016: a unit is active when the variance over x of its posterior mean exceeds 1e-2."""
COLLAPSE_FRACTION = 0.25
"""Warn about posterior collapse when fewer than this fraction of the latent dimensions are active."""
MI_CHUNK = 256
"""Codes z_i scored against every posterior q(z|x_j) at once (memory ~ MI_CHUNK x N x D floats)."""


def summed_kl_per_dim(q_z: Distribution, p_z: Distribution) -> torch.Tensor | None:
    """``sum_x KL(q(z_j|x) || p(z_j))`` over the batch of ``q_z``, (D,) float64 in nats: closed form where torch
    has one, else one Monte Carlo sample per example. None when the posterior or the prior does not
    factorise (a flow posterior, a mixture or VampPrior prior): no per-dimension split exists."""
    if not (isinstance(q_z, Independent) and isinstance(p_z, Independent)):
        return None
    return kl_per_dim(q_z, p_z, q_z.sample((1,))).double().sum(0)


def active_units(means: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> tuple[int, np.ndarray]:
    """The number of active units and each dimension's ``Var_x E_q[z_j|x]`` from posterior means (N, D)."""
    if means.ndim != 2 or len(means) < 2:
        raise ValueError(f"active units need posterior means of shape (N >= 2, D), got {means.shape}")
    variance = means.var(axis=0, ddof=1)  # (D,)
    return int((variance > threshold).sum()), variance


def aggregate_posterior_terms(posteriors: Sequence[Distribution], p_z: Distribution) -> tuple[float, float]:
    """Estimates of ``I(x; z)`` and ``KL(q(z) || p(z))`` in nats (module docstring) from the posteriors
    q(z|x_n) of all N examples, given as chunks with batch shapes (b,) and event shape (D,)."""
    z_chunks = [q_z.sample() for q_z in posteriors]  # each (b, D)
    log_q_own = torch.cat([q_z.log_prob(z) for q_z, z in zip(posteriors, z_chunks, strict=True)])  # (N,)
    z = torch.cat(z_chunks)  # (N, D)
    n = len(z)
    log_q_agg = torch.cat(
        [_log_sum_posteriors(z[start : start + MI_CHUNK], posteriors) for start in range(0, n, MI_CHUNK)]
    ) - math.log(n)  # (N,): log q(z_i)
    mutual_information = float((log_q_own - log_q_agg).double().mean())
    aggregate_kl = float((log_q_agg - p_z.log_prob(z)).double().mean())
    return mutual_information, aggregate_kl


def _log_sum_posteriors(z: torch.Tensor, posteriors: Sequence[Distribution]) -> torch.Tensor:
    """``log Σ_j q(z_i|x_j)`` for codes z (c, D) over every example j, shape (c,)."""
    log_q = torch.cat([q_z.log_prob(z.unsqueeze(1)) for q_z in posteriors], dim=1)  # (c, N)
    return torch.logsumexp(log_q, dim=1)


def collapse_warning(active: int, latent_dim: int, fraction: float = COLLAPSE_FRACTION) -> str | None:
    """A plain-words warning when fewer than ``fraction`` of the dimensions (and at least one) are active."""
    if active >= max(1.0, fraction * latent_dim):
        return None
    return (
        f"posterior collapse: only {active} of {latent_dim} latent dimensions are active (their posterior "
        f"means vary with the input by more than {ACTIVE_THRESHOLD} in variance), so the decoder ignores "
        "most of z and the codes carry little about the data; retrain with a smaller --beta, a KL warm-up "
        "(--kl-schedule linear) or free bits (--free-bits 0.5)"
    )


@torch.inference_mode()
def latent_diagnostics(model: VAE, data: ArrayDataset) -> dict[str, Any]:
    """KL per dimension, active units, ``mutual_information``, ``aggregate_kl`` and the collapse warning
    of ``model`` on ``data`` (at least 2 examples). Cost: O(N² D) for the mutual information.

    ``kl_per_dim`` is None unless posterior and prior factorise; ``mutual_information`` and
    ``aggregate_kl`` are None, with the reason in ``mutual_information_unavailable``, for a posterior
    that cannot score other examples' codes (a planar or IAF flow knows its density only at its own
    samples)."""
    if len(data) < 2:
        raise UserError("latent diagnostics need at least 2 examples; evaluate more of the split")
    posteriors, means, kl_dims = [], [], []
    p_z = model.p_z()
    for batch in dataset_batches(data, EVAL_BATCH, model_device(model)):
        q_z = model.encode(batch.x, batch.y, batch.mask)
        posteriors.append(q_z)
        means.append(q_z.mean.double().cpu().numpy())
        kl_sum = summed_kl_per_dim(q_z, p_z)
        if kl_sum is not None:
            kl_dims.append(kl_sum.cpu())  # (D,)
    active, variance = active_units(np.concatenate(means))
    try:
        if isinstance(model.posterior, PointPosterior):  # log q = 0 everywhere would make I = log N
            raise UserError("deterministic codes (a point posterior) have no density to estimate them with")
        mutual_information, aggregate_kl, note = *aggregate_posterior_terms(posteriors, p_z), None
    except UserError as error:  # a posterior whose density is known only at its own samples (flows), or none
        mutual_information, aggregate_kl, note = None, None, str(error)
    warning = collapse_warning(active, model.latent_dim)
    return {
        "kl_per_dim": (torch.stack(kl_dims).sum(0) / len(data)).tolist() if kl_dims else None,
        "active_units": active,
        "latent_dim": model.latent_dim,
        "posterior_mean_variance": variance.tolist(),
        "mutual_information": mutual_information,
        "mutual_information_max": math.log(len(data)),
        "aggregate_kl": aggregate_kl,
        "mutual_information_unavailable": note,
        "posterior_collapse": warning is not None,
        "warnings": [] if warning is None else [warning],
    }
