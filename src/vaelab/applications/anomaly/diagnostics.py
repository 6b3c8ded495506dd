"""Posterior-collapse check after fitting: KL per latent dimension and active units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaelab.applications.anomaly.training import isolated_global_rng
from vaelab.distributions import kl_per_dim
from vaelab.evaluation.latent import active_units
from vaelab.models import VAE


class PosteriorCollapseWarning(UserWarning):
    """No latent dimension carries information about x: the VAE scores like a fit of the marginals."""


@dataclass(frozen=True)
class LatentActivity:
    kl_per_dim: np.ndarray  # (D_z,) mean over rows of KL(q(z_u|x) || p(z_u)), nats
    active_units: int  # dimensions with Cov_x(E_q[z_u|x]) above 0.01 (Burda et al. 2016, sec. 5.2)


@torch.inference_mode()
def latent_activity(model: VAE, x: torch.Tensor) -> LatentActivity:
    """KL per dimension and the active units of Burda et al. 2016 (sec. 5.2) over the rows ``x``; needs a
    factorised posterior and prior, as the detector builds."""
    q_z, p_z = model.encode(x), model.p_z()
    with isolated_global_rng(x.device):  # a Monte Carlo KL's draw leaves the caller's random state alone
        kl = kl_per_dim(q_z, p_z, q_z.sample((1,))).mean(0)  # (D_z,)
    means = q_z.mean.double().cpu().numpy()  # (N, D_z)
    active = active_units(means)[0] if len(means) > 1 else 0
    return LatentActivity(kl.double().cpu().numpy(), active)
