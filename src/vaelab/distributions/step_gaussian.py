"""A zero-mean Gaussian over one latent per step of a window, correlated across steps and independent across
latent dimensions, with its closed-form KL from a diagonal Gaussian posterior."""

from __future__ import annotations

import torch
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal, constraints, register_kl


class StepGaussian(Distribution):
    """``z = (z_1, ..., z_T)``, each ``z_t`` of D, laid out step-major as the per-step posterior lays it out
    (``z[..., t * D + d]``); for each latent dimension d, ``(z_1d, ..., z_Td) ~ N(0, L_d L_d^T)``.

    ``scale_tril``: ``(D, T, T)``, the lower Cholesky factor of each dimension's covariance over the steps.
    Event shape ``(T * D,)``, no batch shape.
    """

    arg_constraints = {"scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, scale_tril: torch.Tensor, validate_args: bool | None = None) -> None:
        self.dims, self.steps = scale_tril.shape[0], scale_tril.shape[-1]
        self.scale_tril = scale_tril
        self._per_dimension = MultivariateNormal(scale_tril.new_zeros(self.dims, self.steps), scale_tril=scale_tril)
        super().__init__(torch.Size(), torch.Size([self.steps * self.dims]), validate_args=validate_args)

    def by_dimension(self, z: torch.Tensor) -> torch.Tensor:
        """``(..., T * D)`` step-major -> ``(..., D, T)``, one row of steps per latent dimension."""
        return z.unflatten(-1, (self.steps, self.dims)).transpose(-1, -2)

    def step_major(self, z: torch.Tensor) -> torch.Tensor:
        """The inverse of ``by_dimension``."""
        return z.transpose(-1, -2).flatten(-2)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self._per_dimension.log_prob(self.by_dimension(value)).sum(-1)

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return self.step_major(self._per_dimension.rsample(torch.Size(sample_shape)))

    @property
    def mean(self) -> torch.Tensor:
        return self.scale_tril.new_zeros(self.steps * self.dims)

    @property
    def variance(self) -> torch.Tensor:
        return self.step_major(self.scale_tril.pow(2).sum(-1))

    def entropy(self) -> torch.Tensor:
        return self._per_dimension.entropy().sum(-1)


@register_kl(Independent, StepGaussian)
def _kl_diagonal_step_gaussian(q: Independent, p: StepGaussian) -> torch.Tensor:
    """KL(N(mu, diag(s^2)) || N(0, K_d) per dimension d), summed over the dimensions; shape ``q.batch_shape``.

    The KL between Gaussians (Rasmussen & Williams 2006, eq. A.23), ``1/2 [tr(K^-1 S) + mu^T K^-1 mu - T
    + log det K - log det S]`` with ``S = diag(s^2)`` and ``K = L L^T``: ``tr(K^-1 S) = sum_t s_t^2 |L^-1 e_t|^2``.
    """
    if not (isinstance(q.base_dist, Normal) and q.reinterpreted_batch_ndims == 1):
        raise NotImplementedError
    loc, variance = p.by_dimension(q.base_dist.loc), p.by_dimension(q.base_dist.scale.pow(2))  # (B, D, T)
    eye = torch.eye(p.steps, dtype=p.scale_tril.dtype, device=p.scale_tril.device)
    inverse = torch.linalg.solve_triangular(p.scale_tril, eye, upper=False)  # (D, T, T): L^-1
    precision_diagonal = inverse.pow(2).sum(-2)  # (D, T): the diagonal of K^-1
    whitened = torch.linalg.solve_triangular(p.scale_tril, loc.unsqueeze(-1), upper=False).squeeze(-1)  # L^-1 mu
    log_det_k = 2 * p.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)  # (D,)
    per_dimension = (
        (variance * precision_diagonal).sum(-1) + whitened.pow(2).sum(-1) - p.steps + log_det_k - variance.log().sum(-1)
    )  # (B, D)
    return 0.5 * per_dimension.sum(-1)
