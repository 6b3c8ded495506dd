"""What every objective returns, and the protocol it follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE


@dataclass(frozen=True)
class ObjectiveOutput:
    """``loss`` is the scalar to minimise (a batch mean); ``terms`` hold per-example values in nats, (B,).

    Every objective reports at least ``elbo`` (the beta = 1 bound, comparable across runs),
    ``reconstruction`` (E_q log p(x|z)) and ``kl`` (KL(q(z|x) || p(z))).
    """

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]


class Objective(Protocol):
    """A frozen object holding hyperparameters; calling it is a pure function of (model, batch)."""

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput: ...


def single_process(model: VAE, objective: str) -> VAE:
    """``model`` itself for an objective that calls the model's parts (its decoder, its posterior), which a
    ``DistributedDataParallel`` wrapper hides; a one-line error when torchrun wrapped it."""
    if not isinstance(model, VAE):
        raise UserError(
            f"the {objective} objective trains in a single process (it calls the parts of the model): drop torchrun"
        )
    return model
