"""Flow posterior heads: a diagonal Gaussian q_0(z|x) followed by K invertible steps conditioned on x.

Rezende & Mohamed 2015, eq. 7: ``log q_K(z_K|x) = log q_0(z_0|x) - sum_k log |det ∂f_k/∂z_{k-1}|``. The
steps (``PlanarStep``, ``IAFStep``) take the encoder features h as context, so the flow is amortised over
examples; the returned ``FlowDistribution`` knows the exact density of its own samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from vaelab.distributions import FlowDistribution
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior


class FlowPosterior(nn.Module):
    """``h -> q_K(z|x)``: each step maps ``(z (..., B, D), h (B, F))`` to ``(f(z), log |det ∂f/∂z| (..., B))``."""

    def __init__(self, in_features: int, latent_dim: int, steps: Sequence[nn.Module], min_scale: float = 1e-4) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.base = DiagonalGaussianPosterior(in_features, latent_dim, min_scale)
        self.steps = nn.ModuleList(steps)

    def forward(self, h: torch.Tensor) -> FlowDistribution:
        return FlowDistribution(self.base(h), partial(self.flow, h))

    def flow(self, h: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z_0 -> (z_K, sum_k log |det ∂f_k/∂z_{k-1}|) given the features h of the examples."""
        log_det = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
        for step in self.steps:
            z, step_log_det = step(z, h)
            log_det = log_det + step_log_det
        return z, log_det
