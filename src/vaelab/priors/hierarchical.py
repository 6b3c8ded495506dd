"""The prior of a hierarchical VAE: p(z) = p(z_L) prod_{l<L} p(z_l | z_{l+1}) (Sønderby et al. 2016, section 2)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from torch import nn

from vaelab.distributions import TopDownChain


class HierarchicalPrior(nn.Module):
    """``top`` is any prior module over the top layer z_L (standard normal, mixture, VampPrior) and is owned
    here. ``conditionals[l]`` maps z_{l+1} to p(z_l | z_{l+1}); in a ladder VAE they are shared with the
    top-down posterior that owns them, so they are held as plain references, not registered twice."""

    _conditionals: tuple[nn.Module, ...]

    def __init__(self, top: nn.Module, conditionals: Iterable[nn.Module], sizes: Sequence[int]) -> None:
        super().__init__()
        self.top = top
        object.__setattr__(self, "_conditionals", tuple(conditionals))  # bypasses nn.Module registration
        self.sizes = tuple(sizes)

    def forward(self) -> TopDownChain:
        return TopDownChain(self.top(), self._conditionals, self.sizes)
