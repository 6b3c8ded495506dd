"""Paths between two latent codes: linear and spherical interpolation."""

from __future__ import annotations

import torch


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``(1 - t) z0 + t z1`` for each t; ``z0, z1: (D,)``, ``t: (T,)`` -> ``(T, D)``."""
    t = t.unsqueeze(-1)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016, "Sampling generative networks", eq. 1):
    ``sin((1-t) θ)/sin θ · z0 + sin(t θ)/sin θ · z1`` with θ the angle between z0 and z1. It keeps the
    path at the norm typical of Gaussian samples instead of cutting through the low-density centre.
    Falls back to ``lerp`` when the codes are (anti)parallel."""
    cos_theta = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp(min=1e-12)
    theta = torch.arccos(cos_theta.clamp(-1.0, 1.0))
    if float(torch.sin(theta).abs()) < 1e-6:
        return lerp(z0, z1, t)
    t = t.unsqueeze(-1)
    return (torch.sin((1 - t) * theta) * z0 + torch.sin(t * theta) * z1) / torch.sin(theta)


PATHS = {"lerp": lerp, "slerp": slerp}
