"""Posterior-collapse check after fitting: KL per latent dimension and active units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Independent, kl_divergence

from vaelab.models import VAE

ACTIVE_THRESHOLD = 0.01
"""A unit is active when Cov_x(E_q[z_u|x]) exceeds this (Burda et al. 2016, sec. 5.2)."""


class PosteriorCollapseWarning(UserWarning):
    """No latent dimension carries information about x: the VAE scores like a fit of the marginals."""


@dataclass(frozen=True)
class LatentActivity:
    kl_per_dim: np.ndarray  # (D_z,) mean over rows of KL(q(z_u|x) || p(z_u)), nats
    activity: np.ndarray  # (D_z,) Cov_x(E_q[z_u|x])

    @property
    def active_units(self) -> int:
        return int((self.activity > ACTIVE_THRESHOLD).sum())


@torch.inference_mode()
def latent_activity(model: VAE, x: torch.Tensor) -> LatentActivity:
    """KL per dimension and the activity statistic of Burda et al. 2016 (sec. 5.2) over the rows ``x``;
    needs a factorised (``Independent``) posterior and prior, as the detector builds."""
    q_z, p_z = model.encode(x), model.p_z()
    assert isinstance(q_z, Independent) and isinstance(p_z, Independent)
    kl_per_dim = kl_divergence(q_z.base_dist, p_z.base_dist).mean(0)  # (D_z,)
    means = q_z.mean  # (N, D_z)
    activity = means.var(0, unbiased=True) if len(x) > 1 else torch.zeros_like(kl_per_dim)
    return LatentActivity(kl_per_dim.double().cpu().numpy(), activity.double().cpu().numpy())
