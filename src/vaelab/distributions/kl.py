"""KL(q || p): closed form where torch registers one, a Monte Carlo estimate where it has none."""

from __future__ import annotations

import torch
from torch.distributions import Distribution, Independent, kl_divergence


def kl_estimate(q: Distribution, p: Distribution, z: torch.Tensor) -> torch.Tensor:
    """KL(q || p) per example, shape ``q.batch_shape``.

    Exact when torch knows the pair; otherwise the Monte Carlo estimate
    ``mean_s [log q(z_s) - log p(z_s)]`` over the samples ``z`` (S, *batch, D) drawn from ``q``
    (Kingma & Welling 2014, eq. 6 uses the same single-sample estimator).
    """
    try:
        return kl_divergence(q, p)
    except NotImplementedError:
        return (q.log_prob(z) - p.log_prob(z)).mean(0)


def kl_per_dim(q: Distribution, p: Distribution, z: torch.Tensor) -> torch.Tensor:
    """KL(q(z_j|x) || p(z_j)) per example and dimension, (B, D), for a factorised (``Independent``)
    posterior and prior: closed form where torch has one, else the Monte Carlo estimate over the samples
    ``z`` (S, B, D) drawn from q. The dimensions sum to the KL of the joint."""
    if not (isinstance(q, Independent) and isinstance(p, Independent)):
        raise ValueError("KL per dimension needs a factorised (Independent) posterior and prior")
    return kl_estimate(q.base_dist, p.base_dist, z)
