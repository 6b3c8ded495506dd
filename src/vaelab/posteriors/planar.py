"""Planar flow steps (Rezende & Mohamed 2015, section 4.1), amortised: (u, w, b) come from the features."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.posteriors.flow import FlowPosterior


class PlanarStep(nn.Module):
    """``f(z) = z + û tanh(wᵀz + b)`` (eq. 10) with ``log |det ∂f/∂z| = log |1 + ψᵀû|``,
    ``ψ = (1 - tanh²(wᵀz + b)) w`` (eqs. 11-12).

    ``û = u + (m(wᵀu) - wᵀu) w / ||w||²`` with ``m(a) = softplus(a) - 1`` (appendix A.1) makes
    ``wᵀû = m(wᵀu) > -1``, so f is invertible. Then ``1 + ψᵀû = t² + (1 - t²) softplus(wᵀu) > 0``
    with ``t = tanh(wᵀz + b)``, the form used here: it cannot cancel to zero or go negative in floating point.
    Per-example (u, w, b) = Linear(h), as in the amortised planar flows of van den Berg et al. 2018.
    """

    def __init__(self, in_features: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.params = nn.Linear(in_features, 2 * latent_dim + 1)

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u, w, b = self.params(h).split([self.latent_dim, self.latent_dim, 1], dim=-1)  # (B, D), (B, D), (B, 1)
        w_dot_u = (w * u).sum(-1, keepdim=True)  # (B, 1)
        softplus_wu = F.softplus(w_dot_u)  # m(wᵀu) + 1
        u_hat = u + (softplus_wu - 1 - w_dot_u) * w / w.square().sum(-1, keepdim=True).clamp(min=1e-12)
        t = torch.tanh((z * w).sum(-1, keepdim=True) + b)  # (..., B, 1)
        log_det = torch.log(t.square() + (1 - t.square()) * softplus_wu).squeeze(-1)  # (..., B)
        return z + u_hat * t, log_det


class PlanarPosterior(FlowPosterior):
    """A diagonal Gaussian followed by ``num_steps`` planar steps."""

    def __init__(self, in_features: int, latent_dim: int, num_steps: int = 4, min_scale: float = 1e-4) -> None:
        steps = [PlanarStep(in_features, latent_dim) for _ in range(num_steps)]
        super().__init__(in_features, latent_dim, steps, min_scale)
