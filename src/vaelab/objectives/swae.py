"""The sliced-Wasserstein autoencoder: the batch's codes matched to prior draws by the sliced Wasserstein
distance, which needs neither a kernel nor a discriminator."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, num_projections: int = 50, power: float = 2.0) -> torch.Tensor:
    """The estimate of SW_p^p between the empirical distributions of ``a`` and ``b`` (each (n, D)) on
    ``num_projections`` random directions (Kolouri et al. 2019, "Sliced-Wasserstein autoencoder: an
    embarrassingly simple generative model", eq. 11)::

        1/(L n) sum_l sum_m |sort(a theta_l)_m - sort(b theta_l)_m|^p,   theta_l uniform on the unit sphere

    In one dimension the p-Wasserstein distance between two samples of equal size pairs them in sorted
    order (its closed form there), so each slice costs a sort. The directions are drawn from torch's
    generator, anew at each call; in one dimension (D = 1) every direction is ±1 and the estimate is exact.
    """
    if a.shape != b.shape or a.dim() != 2:
        raise UserError(
            f"the sliced Wasserstein distance compares two samples of shape (n, D); got {a.shape}, {b.shape}"
        )
    directions = torch.randn(a.shape[-1], num_projections, dtype=a.dtype, device=a.device)
    directions = directions / directions.norm(dim=0, keepdim=True)  # (D, L), unit columns
    projected_a = torch.sort(a @ directions, dim=0).values  # (n, L)
    projected_b = torch.sort(b @ directions, dim=0).values
    return (projected_a - projected_b).abs().pow(power).mean()


@dataclass(frozen=True)
class SlicedWassersteinAutoencoder:
    """``loss = -log p(x|z) + sliced_weight SW_p^p(q(z), p(z))`` with z the deterministic code (the ``point``
    posterior) of each example (Kolouri et al. 2019, eq. 15; their c(x, y) = |x - y|^2 is ``power`` 2).

    q(z) is represented by the batch's codes and p(z) by as many prior draws (reparameterised where the
    prior allows). Their reconstruction cost c is a squared error; ours is the likelihood's -log p(x|z) in
    nats, which is the squared error / (2 sigma^2) plus a constant for a Gaussian likelihood of fixed scale
    sigma, so it works for every kind of data. ``sliced_weight`` is their lambda in those units: 100, since
    on binarized MNIST (3 epochs) 10 left the codes more spread than N(0, I) (mean -log p(z) 32.1 against
    28.4 expected) and 100 matched them (28.3) for 1.4 nats of reconstruction. The batch's estimate is
    reported per example as ``sliced_wasserstein``; the ``elbo`` column is log p(x, z) at the code, not a
    bound (``vaelab.posteriors.point``).
    """

    sliced_weight: float = 100.0
    projections: int = 50  # L, their choice
    power: float = 2.0  # p

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out = model(batch)
        terms = elbo_terms(out)
        z_q = out.z[0]  # (B, D)
        draw = out.p_z.rsample if out.p_z.has_rsample else out.p_z.sample
        distance = sliced_wasserstein(z_q, draw((len(z_q),)), self.projections, self.power)
        loss = -terms["reconstruction"].mean() + self.sliced_weight * distance
        return ObjectiveOutput(loss, {**terms, "sliced_wasserstein": distance.expand(len(batch))})
