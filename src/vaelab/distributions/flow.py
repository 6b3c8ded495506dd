"""A base distribution pushed through a normalising flow, with the exact density of its own samples.

Rezende & Mohamed 2015, eq. 7: for z_K = f_K ∘ ... ∘ f_1(z_0), z_0 ~ q_0,
``log q_K(z_K) = log q_0(z_0) - sum_k log |det ∂f_k/∂z_{k-1}|``. The log-determinants are computed while
sampling, so the density is exact and cheap at the points the flow itself produced. Planar flows have no
analytic inverse, so the density anywhere else is unknown: ``log_prob`` answers only for the tensor the
last ``rsample``/``sample`` call returned (the same tensor object, as ``ModelPass`` passes it on) and
raises a ``UserError`` for any other. Every vaelab estimator that scores q at its own samples (ELBO with
a Monte Carlo KL, IWAE, importance-sampled log p(x)) works; one that scores q at other points (another
example's codes, a detached copy) is refused with that message rather than answered wrongly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Distribution, constraints

from vaelab.errors import UserError

# z_0 (..., D) -> (z_K (..., D), sum_k log |det ∂f_k/∂z_{k-1}| (...))
Transform = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class FlowDistribution(Distribution):
    """``base`` (batch (B,), event (D,)) followed by ``transform``; batch and event shapes are the base's."""

    arg_constraints: dict[str, constraints.Constraint] = {}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, base: Distribution, transform: Transform) -> None:
        self.base = base
        self.transform = transform
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None  # (z_K, log q(z_K)) of the last draw
        super().__init__(base.batch_shape, base.event_shape, validate_args=False)

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        z_0 = self.base.rsample(torch.Size(sample_shape))  # (*sample_shape, B, D)
        z, log_det = self.transform(z_0)
        self._last = (z, self.base.log_prob(z_0) - log_det)
        return z

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """Exact log q(z) for ``value`` = the tensor the last draw returned, shape ``value.shape[:-1]``."""
        if self._last is None or value is not self._last[0]:
            raise UserError(
                "a flow posterior's density is known only at its own samples (a planar flow has no inverse): "
                "score the tensor its last rsample returned, or use a Gaussian or hierarchical posterior"
            )
        return self._last[1]

    @property
    def mean(self) -> torch.Tensor:
        """The flow applied to the base mean, f(E[z_0]), (B, D): a deterministic embedding. The exact mean of
        q has no closed form; this is what ``VAE.embed``/``reconstruct``/``interpolate`` use."""
        return self.transform(self.base.mean)[0]
