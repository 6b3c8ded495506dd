"""The VampPrior: a mixture of the variational posteriors of learned pseudo-inputs (Tomczak & Welling 2018)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from vaelab.distributions import DiagonalGaussianMixture
from vaelab.errors import UserError


class VampPrior(nn.Module):
    """``p(z) = (1/K) sum_k q(z | u_k)`` (Tomczak & Welling 2018, section 3) over K pseudo-inputs ``u_k`` of the
    data's shape, learned with the rest of the model.

    q(z | u) is the model's own ``encoder`` followed by ``posterior`` (features -> a diagonal Gaussian; for a
    hierarchical VAE the top layer's q(z_L | x)). Both belong to the VAE: they are held here as plain
    references, not submodules, so the state dict stores their weights once and ``vaelab.load`` rebuilds
    the same sharing. The pseudo-inputs start near zero (N(0, 0.01²)) and are not clipped to the data's range.
    """

    pseudo_inputs: nn.Parameter
    _encoder: nn.Module
    _posterior: Callable[[torch.Tensor], Distribution]

    def __init__(
        self,
        encoder: nn.Module,
        posterior: Callable[[torch.Tensor], Distribution],
        data_shape: tuple[int, ...],
        num_components: int,
    ) -> None:
        super().__init__()
        self.pseudo_inputs = nn.Parameter(0.01 * torch.randn(num_components, *data_shape))
        object.__setattr__(self, "_encoder", encoder)  # bypasses nn.Module registration on purpose
        object.__setattr__(self, "_posterior", posterior)

    def forward(self) -> DiagonalGaussianMixture:
        q_u = self._posterior(self._encoder(self.pseudo_inputs))  # batch (K,), event (D,)
        if not (isinstance(q_u, Independent) and isinstance(q_u.base_dist, Normal)):
            raise UserError(
                f"the VampPrior mixes diagonal Gaussian posteriors, but this posterior returns {type(q_u).__name__}; "
                "use the gaussian or ladder posterior with it"
            )
        logits = torch.zeros(len(self.pseudo_inputs), dtype=q_u.base_dist.loc.dtype, device=q_u.base_dist.loc.device)
        return DiagonalGaussianMixture(logits, q_u.base_dist.loc, q_u.base_dist.scale)
