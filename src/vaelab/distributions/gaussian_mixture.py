"""A mixture of K diagonal Gaussians over R^D whose ``log_prob`` is fast and works in bounded memory.

torch's ``MixtureSameFamily`` evaluates every component at every point at once, a ``(*batch, K, D)``
tensor: with a VampPrior's 500 components, 20 latent dimensions and the 10^4 rows of one
importance-sampling chunk that is 10^8 floats per temporary. Here the squared Mahalanobis distances
are expanded into matrix products, ``sum_d (z_d - m_kd)² / s_kd² = z² · s_k⁻² - 2 z · (m_k s_k⁻²) + m_k² · s_k⁻²``,
so only ``(rows, K)`` tensors exist, in chunks of at most ``CHUNK_ELEMENTS / K`` rows. The expansion
cancels large terms, so it runs in float64 (its rounding error is then ~1e-11 nats, not ~1e-3 as in
float32) and the result is returned in the input's dtype.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Categorical, Distribution, constraints
from torch.nn import functional as F

CHUNK_ELEMENTS = 1 << 22  # upper bound on the (rows, K, D) elements one chunk of log_prob holds


class DiagonalGaussianMixture(Distribution):
    """``p(z) = sum_k pi_k N(z; loc_k, diag(scale_k^2))`` with ``pi = softmax(logits)``.

    ``logits: (K,)``, ``loc, scale: (K, D)``; batch shape ``()``, event shape ``(D,)``. The mixture
    priors of Tomczak & Welling 2018 (the VampPrior and their MoG prior) take this form. Sampling draws a
    component, then a Gaussian sample; it is not reparameterised.
    """

    arg_constraints = {"logits": constraints.real_vector, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real_vector
    has_rsample = False

    def __init__(self, logits: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> None:
        if logits.dim() != 1 or loc.dim() != 2 or loc.shape != scale.shape or loc.shape[0] != logits.shape[0]:
            raise ValueError(
                "a diagonal Gaussian mixture needs logits (K,) and loc, scale (K, D); got "
                f"{tuple(logits.shape)}, {tuple(loc.shape)}, {tuple(scale.shape)}"
            )
        self.logits, self.loc, self.scale = logits, loc, scale
        super().__init__(batch_shape=torch.Size(), event_shape=loc.shape[1:], validate_args=False)

    @property
    def log_weights(self) -> torch.Tensor:
        """log pi_k, (K,)."""
        return F.log_softmax(self.logits, dim=-1)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``log sum_k pi_k N(z; loc_k, scale_k)`` for ``value: (..., D)`` -> ``(...)``."""
        num_components, dim = self.loc.shape
        points = value.reshape(-1, dim).double()  # (N, D)
        loc, precision = self.loc.double(), self.scale.double().pow(-2)  # (K, D) each
        loc_precision = loc * precision
        # log pi_k - sum_d log scale_kd - D/2 log 2 pi - m_k² · s_k⁻² / 2, shared by every point: (K,)
        log_norm = (
            (self.log_weights - self.scale.log().sum(-1)).double()
            - 0.5 * dim * math.log(2 * math.pi)
            - 0.5 * (loc * loc_precision).sum(-1)
        )
        rows = max(1, CHUNK_ELEMENTS // num_components)
        log_p = [
            torch.logsumexp(log_norm - 0.5 * (chunk.square() @ precision.T) + chunk @ loc_precision.T, dim=-1)
            for chunk in points.split(rows)  # each (rows, K) inside
        ]
        return torch.cat(log_p).reshape(value.shape[:-1]).to(value.dtype)

    @property
    def mean(self) -> torch.Tensor:
        """``sum_k pi_k loc_k``, (D,)."""
        return (self.log_weights.exp().unsqueeze(-1) * self.loc).sum(0)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            component = Categorical(logits=self.logits).sample(torch.Size(sample_shape))  # sample_shape
            noise = torch.randn(*component.shape, self.loc.shape[-1], dtype=self.loc.dtype, device=self.loc.device)
            return self.loc[component] + self.scale[component] * noise  # (*sample_shape, D)
