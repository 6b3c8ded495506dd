"""Metropolis-within-Gibbs imputation (Mattei & Frellsen 2018, "Leveraging the exact likelihood of deep latent
variable models", Algorithm 1).

A Markov chain over (z, x_m) whose stationary distribution is p(z, x_m | x_o): with the current completion
``x^ = (x_o, x_m)``,

1. propose ``z' ~ q(z | x^)`` (the encoder reading the completed row) and accept it with probability
   ``min(1, p(x^ | z') p(z') q(z | x^) / (p(x^ | z) p(z) q(z' | x^)))`` (an independent Metropolis-Hastings
   step targeting p(z | x^));
2. draw ``x_m ~ p(x_m | z)``.

Unlike pseudo-Gibbs sampling (which always accepts z'), the chain is exact whatever the encoder; it serves
to compare against the importance-sampling imputations (:mod:`.importance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Distribution

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE


@dataclass(frozen=True)
class GibbsChain:
    """The chain's kept completions ``(M, B, *data_shape)`` and each row's acceptance rate ``(B,)``."""

    draws: torch.Tensor
    acceptance: torch.Tensor


def _log_joint(model: VAE, p_x: Distribution, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """``log p(x | z) + log p(z)`` for completed rows ``x: (B, *data_shape)``, codes ``z: (B, D)`` and their
    decoded ``p_x = p(x | z)``."""
    return model.likelihood.log_prob(p_x, x) + model.p_z(y).log_prob(z)


@torch.inference_mode()
def metropolis_within_gibbs(
    model: VAE, batch: Batch, start: torch.Tensor, steps: int = 200, burn_in: int = 100, thin: int = 1
) -> GibbsChain:
    """Run the chain from the completion ``start: (B, *data_shape)`` (e.g. the importance-sampled
    conditional mean) for ``steps`` steps; keep every ``thin``-th completion after ``burn_in``. Each step
    decodes twice: the proposal, and the code kept (whose p(x | z) also scores it in the next step)."""
    if not 0 <= burn_in < steps or thin < 1:
        raise UserError(f"need 0 <= burn_in < steps and thin >= 1 (got steps={steps}, burn_in={burn_in}, thin={thin})")
    missing = None if batch.mask is None else ~batch.mask
    x = start.clone()
    y = batch.y
    z = model.encode(x, y).sample()  # (B, D)
    p_x = model.decode(z, y)  # p(x | z) of the current code
    accepted = torch.zeros(len(batch), device=x.device)
    draws = []
    for step in range(steps):
        q_z = model.encode(x, y)
        proposal = q_z.sample()  # (B, D)
        log_ratio = (
            _log_joint(model, model.decode(proposal, y), x, proposal, y)
            - q_z.log_prob(proposal)
            - _log_joint(model, p_x, x, z, y)
            + q_z.log_prob(z)
        )  # (B,)
        accept = torch.rand_like(log_ratio).log() < log_ratio
        z = torch.where(accept.unsqueeze(-1), proposal, z)
        accepted += accept.float()
        p_x = model.decode(z, y)
        if missing is not None:
            x = torch.where(missing, p_x.sample(), x)
        if step >= burn_in and (step - burn_in) % thin == 0:
            draws.append(x.clone())
    return GibbsChain(torch.stack(draws), accepted / steps)
