"""A Gaussian mixture with one more component that is a point mass: a value that repeats exactly.

A column of a table often holds one value in a large share of its rows (Adult's capital-gain is 0 in 92 % of
them). A Gaussian component can only approach such a spike by shrinking its scale to its floor, which needs its
decoded location on the value to a precision of about the floor (for capital-gain, 0.1 dollars in a column whose
standard deviation is 7,300); a decoder trained by stochastic gradients does not get there, and its draws spread
around the value. Here the value is an atom of the distribution instead (the zero-inflated models of Lambert
1992, "Zero-inflated Poisson regression", eq. 1, with a Gaussian mixture in place of the Poisson):

    p(x) = pi_0 [x = a] + sum_{k=1..K} pi_k N(x; mu_k, sigma_k^2),

a density with respect to the counting measure at ``a`` plus the Lebesgue measure elsewhere. ``log_prob`` is
``log pi_0`` at ``x = a`` and ``log sum_k pi_k N(x; mu_k, sigma_k^2)`` at any other x: a log-probability at the
atom and a log-density elsewhere, as a zero-inflated model's likelihood is. ``x = a`` is read within a
``tolerance`` (a value scaled to model space and back may miss the atom by a few float32 steps). An element
without an atom (``a`` NaN) must have ``pi_0 = 0`` (a log-weight of ``-inf``); it is then the plain mixture.
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, Normal, constraints

from vaelab.distributions.softmax_categorical import SoftmaxCategorical


class AtomGaussianMixture(Distribution):
    """``pi_0 [x = atom] + sum_k pi_k N(x; loc_k, scale_k^2)`` per element.

    ``log_weights: (..., K + 1)`` normalised log-weights, the atom's last; ``loc, scale: (..., K)``;
    ``atom``: broadcastable to the batch shape ``(...)``, NaN where an element has none (its last log-weight
    ``-inf``); ``tolerance``: broadcastable likewise, how far from the atom a value still is the atom.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(
        self,
        log_weights: torch.Tensor,
        loc: torch.Tensor,
        scale: torch.Tensor,
        atom: torch.Tensor,
        tolerance: torch.Tensor | float = 0.0,
    ) -> None:
        if log_weights.shape[:-1] != loc.shape[:-1] or log_weights.shape[-1] != loc.shape[-1] + 1:
            raise ValueError(
                f"log_weights {tuple(log_weights.shape)} need one more entry than loc {tuple(loc.shape)} (the atom's)"
            )
        self.log_weights, self.loc, self.scale = log_weights, loc, scale
        self.atom = atom.expand(loc.shape[:-1])
        self.tolerance = torch.as_tensor(tolerance, dtype=loc.dtype, device=loc.device).expand(loc.shape[:-1])
        super().__init__(batch_shape=loc.shape[:-1], validate_args=False)

    @property
    def mixture_distribution(self) -> SoftmaxCategorical:
        """The choice among the K Gaussians and the atom (last), as a mixture's weights."""
        return SoftmaxCategorical(self.log_weights, validate_args=False)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        components = Normal(self.loc, self.scale, validate_args=False).log_prob(value.unsqueeze(-1))  # (..., K)
        log_density = torch.logsumexp(components + self.log_weights[..., :-1], dim=-1)
        at_atom = (value - self.atom).abs() <= self.tolerance  # False where there is no atom (NaN)
        return torch.where(at_atom, self.log_weights[..., -1], log_density)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape)
        with torch.no_grad():
            choice = self.mixture_distribution.sample(shape)  # (*shape, ...): K is the atom
            gaussian = choice.clamp(max=self.loc.shape[-1] - 1).unsqueeze(-1)
            loc = self.loc.expand(*shape, *self.loc.shape).gather(-1, gaussian).squeeze(-1)
            scale = self.scale.expand(*shape, *self.scale.shape).gather(-1, gaussian).squeeze(-1)
            drawn = loc + scale * torch.randn_like(loc)
            return torch.where(choice == self.loc.shape[-1], self.atom.expand_as(drawn), drawn)

    @property
    def mean(self) -> torch.Tensor:
        weights = self.log_weights.exp()
        gaussians = (weights[..., :-1] * self.loc).sum(-1)
        return gaussians + torch.where(torch.isnan(self.atom), 0.0, weights[..., -1] * self.atom)

    def with_log_weights(self, log_weights: torch.Tensor) -> AtomGaussianMixture:
        """The same components and atom under other (normalised) log-weights: a tempered choice."""
        return AtomGaussianMixture(log_weights.log_softmax(-1), self.loc, self.scale, self.atom, self.tolerance)
