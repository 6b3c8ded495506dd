"""A distribution over stacked latent layers z = (z_1, ..., z_L), sampled from the top down.

``p(z) = p(z_L) prod_{l<L} p(z_l | z_{l+1})`` (Sønderby et al. 2016, "Ladder variational autoencoders",
section 2): both the hierarchical prior and the top-down (ladder) posterior of a hierarchical VAE have this
form. The layers are concatenated on the last axis, bottom layer first, so the result is one
distribution with event shape ``(sum_l d_l,)`` that every generic estimator can use: ``rsample`` draws
ancestrally from the top and ``log_prob`` sums the layers' conditional log-densities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.distributions import Distribution, constraints

# z_{l+1} (..., d_{l+1}) -> p(z_l | z_{l+1}) with event shape (d_l,)
Conditional = Callable[[torch.Tensor], Distribution]


class TopDownChain(Distribution):
    """``top`` is p(z_L) (event ``(sizes[-1],)``); ``conditionals[l]`` maps z_{l+1} to p(z_l | z_{l+1}) for
    the layers below, in the order of ``sizes`` (bottom first). Batch shape is the top's."""

    arg_constraints: dict[str, constraints.Constraint] = {}
    support = constraints.real_vector

    def __init__(self, top: Distribution, conditionals: Sequence[Conditional], sizes: Sequence[int]) -> None:
        if len(conditionals) != len(sizes) - 1 or top.event_shape != (sizes[-1],):
            raise ValueError(
                f"a chain of {len(sizes)} layers needs {len(sizes) - 1} conditionals and a top with event shape "
                f"({sizes[-1]},); got {len(conditionals)} and {tuple(top.event_shape)}"
            )
        self.top = top
        self.conditionals = tuple(conditionals)
        self.sizes = tuple(sizes)
        self.has_rsample = top.has_rsample
        super().__init__(top.batch_shape, torch.Size([sum(sizes)]), validate_args=False)

    def _ancestral(self, z_top: torch.Tensor, draw: Callable[[Distribution], torch.Tensor]) -> torch.Tensor:
        """From ``z_top`` = z_L, ``draw`` each z_l from p(z_l | z_{l+1}); concatenated bottom first."""
        layers = [z_top]
        for conditional in reversed(self.conditionals):
            layers.append(draw(conditional(layers[-1])))
        return torch.cat(layers[::-1], dim=-1)  # (..., sum_l d_l)

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return self._ancestral(self.top.rsample(torch.Size(sample_shape)), lambda p: p.rsample())

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            return self._ancestral(self.top.sample(torch.Size(sample_shape)), lambda p: p.sample())

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``log p(z_L) + sum_l log p(z_l | z_{l+1})`` for ``value: (..., sum_l d_l)`` -> ``(...)``."""
        layers = value.split(self.sizes, dim=-1)
        log_p = self.top.log_prob(layers[-1])
        for conditional, z, z_above in zip(self.conditionals, layers[:-1], layers[1:], strict=True):
            log_p = log_p + conditional(z_above).log_prob(z)
        return log_p

    @property
    def mean(self) -> torch.Tensor:
        """Means passed down the chain: z_L = E[z_L], z_l = E[z_l | z_{l+1} = that mean]. Not the exact mean
        of a nonlinear chain (which has no closed form); a deterministic embedding."""
        return self._ancestral(self.top.mean, lambda p: p.mean)
