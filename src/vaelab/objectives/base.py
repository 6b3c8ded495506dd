"""What every objective returns, and the protocol it follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from vaelab.data.batch import Batch
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
