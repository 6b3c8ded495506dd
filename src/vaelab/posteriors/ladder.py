"""The top-down (ladder) posterior of a hierarchical VAE (Sønderby et al. 2016, "Ladder variational
autoencoders").

Latent layers z_1 (next to x) ... z_L (top), concatenated bottom first. A deterministic bottom-up pass
gives each layer a Gaussian "ladder" estimate N(μ̂_l, σ̂_l) from the data; inference then runs
top-down like the generative model:

    q(z_L | x) = N(μ̂_L, σ̂_L),    q(z_l | z_{l+1}, x) = N(μ_q, σ_q)   with
    σ_q² = 1 / (σ̂_l⁻² + σ_p⁻²),    μ_q = (μ̂_l σ̂_l⁻² + μ_p σ_p⁻²) σ_q²     (section 2.2)

where N(μ_p, σ_p) = p(z_l | z_{l+1}) is the generative top-down conditional. Those conditionals
(``top_down``) are parameters of both q and p; they live here, in the head built first, and
``HierarchicalPrior`` refers to them without registering them a second time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import partial

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from vaelab.distributions import TopDownChain
from vaelab.nn import MLP
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior


def precision_weighted(ladder: Normal, prior: Distribution) -> Independent:
    """The normalised product N(μ̂, σ̂) · N(μ_p, σ_p) of the ladder estimate and the top-down conditional
    ``prior`` (an Independent Normal), i.e. Sønderby et al. 2016's precision-weighted update."""
    assert isinstance(prior, Independent) and isinstance(prior.base_dist, Normal)
    precision_ladder, precision_prior = ladder.scale.pow(-2), prior.base_dist.scale.pow(-2)
    variance = 1 / (precision_ladder + precision_prior)
    loc = (ladder.loc * precision_ladder + prior.base_dist.loc * precision_prior) * variance
    return Independent(Normal(loc, variance.sqrt(), validate_args=False), 1)


def _posterior_conditional(estimate: Normal, layer: nn.Module, z_above: torch.Tensor) -> Independent:
    """q(z_l | z_{l+1}, x) from the ladder estimate of layer l and the conditional p(z_l | z_{l+1})."""
    return precision_weighted(estimate, layer(z_above))


class LadderPosterior(nn.Module):
    """``h -> q(z_1..z_L | x)`` as a ``TopDownChain`` over ``sizes`` (bottom first, at least two layers).

    Every deterministic block and top-down conditional has ``in_features`` hidden units: the bottom-up
    pass is d_1 = h, d_{l+1} = ReLU(Linear(d_l)); p(z_l | z_{l+1}) is a one-hidden-layer MLP to a diagonal
    Gaussian with scale ``softplus + min_scale``.
    """

    def __init__(self, in_features: int, sizes: Sequence[int], min_scale: float = 1e-4) -> None:
        super().__init__()
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"a ladder posterior needs at least two latent layers of size >= 1, got {list(sizes)}")
        self.sizes = tuple(sizes)
        self.latent_dim = sum(sizes)
        width = in_features
        self.bottom_up = nn.ModuleList(MLP((width,), [], (width,), final_activation=True) for _ in sizes[1:])
        self.ladder_heads = nn.ModuleList(DiagonalGaussianPosterior(width, d, min_scale) for d in sizes)
        self.top_down = nn.ModuleList(
            nn.Sequential(
                MLP((d_above,), [], (width,), final_activation=True), DiagonalGaussianPosterior(width, d, min_scale)
            )
            for d, d_above in itertools.pairwise(sizes)
        )

    def ladder_estimates(self, h: torch.Tensor) -> list[Normal]:
        """The bottom-up estimates N(μ̂_l, σ̂_l), each with batch (B, d_l), bottom first."""
        d = h
        estimates = [self.ladder_heads[0](d).base_dist]
        for block, head in zip(self.bottom_up, self.ladder_heads[1:], strict=True):
            d = block(d)
            estimates.append(head(d).base_dist)
        return estimates

    def top_posterior(self, h: torch.Tensor) -> Independent:
        """q(z_L | x): batch (B,), event (d_L,). A VampPrior over the top layer mixes these."""
        return Independent(self.ladder_estimates(h)[-1], 1)

    def forward(self, h: torch.Tensor) -> TopDownChain:
        ladder = self.ladder_estimates(h)
        conditionals = [
            partial(_posterior_conditional, estimate, layer)
            for estimate, layer in zip(ladder[:-1], self.top_down, strict=True)
        ]
        return TopDownChain(Independent(ladder[-1], 1), conditionals, self.sizes)
