"""OmniAnomaly's prior over one latent per step: a linear Gaussian state-space model (Su et al. 2019, §3.2)."""

from __future__ import annotations

import math

import torch
from torch import nn

from vaelab.distributions.step_gaussian import StepGaussian
from vaelab.likelihoods.gaussian import positive_scale

MIN_SCALE = 1e-3
"""Floor of the three noise scales, so each dimension's covariance stays positive definite."""


class StateSpacePrior(nn.Module):
    """``z_t = s_t + r v_t`` with ``s_t = a s_(t-1) + q w_t``, ``s_1 ~ N(0, p^2)`` and v, w standard normal,
    independently for each of the D dimensions of the per-step latent: z's steps are correlated, so codes that
    jump between neighbouring steps cost more than codes that drift.

    OmniAnomaly (Su et al. 2019) fixes ``a = p = q = r = 1`` (an identity transition and observation with unit
    noises): that is where the parameters start, and with ``learn`` each dimension learns its own, the transition
    within [-1, 1] (beyond it the state, and the covariance, would grow geometrically over the window). The
    marginal of z is Gaussian, so the prior returns it exactly (``StepGaussian``), with its covariance
    ``K = A C C^T A^T + r^2 I`` where ``(A C)_tu = a^(t-u) c_u`` (``c_1 = p``, else q) for ``u <= t``.
    """

    def __init__(self, steps: int, dims: int, learn: bool = False) -> None:
        super().__init__()
        self.steps, self.dims = steps, dims
        unit = math.log(math.expm1(1.0 - MIN_SCALE))  # positive_scale(unit) == 1
        values = {"transition": torch.ones(dims), "raw_scales": torch.full((3, dims), unit)}
        for name, value in values.items():
            if learn:
                self.register_parameter(name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        t = torch.arange(steps)
        self.register_buffer("lags", (t[:, None] - t[None, :]).clamp(min=0).float(), persistent=False)  # (T, T)

    transition: torch.Tensor  # (D,): a
    raw_scales: torch.Tensor  # (3, D): the initial state's p, the transition noise's q, the observation noise's r
    lags: torch.Tensor

    def covariance(self) -> torch.Tensor:
        """``(D, T, T)``: each latent dimension's covariance over the steps."""
        initial, transition_noise, observation_noise = positive_scale(self.raw_scales, MIN_SCALE)
        transition = self.transition.clamp(-1.0, 1.0)  # no explosive state: |a| <= 1 keeps K well conditioned
        powers = transition[:, None, None].pow(self.lags).tril()  # (D, T, T): a^(t-u) for u <= t
        noise = transition_noise[:, None].expand(self.dims, self.steps).clone()
        noise[:, 0] = initial  # (D, T): the scale of each step's innovation
        state_factor = powers * noise[:, None, :]  # s = state_factor @ standard normals
        eye = torch.eye(self.steps, dtype=noise.dtype, device=noise.device)
        return state_factor @ state_factor.transpose(-1, -2) + observation_noise.pow(2)[:, None, None] * eye

    def forward(self) -> StepGaussian:
        return StepGaussian(torch.linalg.cholesky(self.covariance()))
