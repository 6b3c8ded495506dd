"""log I_v(κ), the log modified Bessel function of the first kind, differentiable in κ.

torch has no Bessel function of arbitrary order, so the values come from ``scipy.special.ive`` (the
exponentially scaled ``I_v(κ) e^{-κ}``, finite for κ up to 1e300) in float64 on the CPU, and the gradient from
the recurrence ``d I_v / dκ = I_{v+1}(κ) + (v / κ) I_v(κ)`` (Abramowitz & Stegun 1964, 9.6.26), i.e.
``d log I_v / dκ = I_{v+1}(κ) / I_v(κ) + v / κ``. The result returns to κ's device and dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _ive(order: float, kappa: torch.Tensor) -> torch.Tensor:
    """``I_order(κ) e^{-κ}`` in float64 on the CPU, κ of any device and dtype."""
    from scipy.special import ive  # imported on first use: scipy is a heavy import the CLI's --help should not pay

    return torch.from_numpy(np.asarray(ive(order, kappa.detach().double().cpu().numpy())))


class _LogBessel(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, order: float, kappa: torch.Tensor) -> torch.Tensor:
        scaled = _ive(order, kappa)  # (...) float64, CPU
        ratio = _ive(order + 1, kappa) / scaled  # I_{v+1} / I_v
        ctx.save_for_backward(kappa, ratio.to(device=kappa.device, dtype=kappa.dtype))
        ctx.order = order
        return (scaled.log() + kappa.detach().double().cpu()).to(device=kappa.device, dtype=kappa.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        kappa, ratio = ctx.saved_tensors
        return None, grad * (ratio + ctx.order / kappa)


def log_bessel_iv(order: float, kappa: torch.Tensor) -> torch.Tensor:
    """``log I_order(κ)`` elementwise for κ > 0 and order >= 0, differentiable in κ (once)."""
    result: torch.Tensor = _LogBessel.apply(order, kappa)
    return result
