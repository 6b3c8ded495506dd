"""The discriminator of an adversarial objective (FactorVAE, the adversarial autoencoder), trained by its own
optimizer inside the one training loop."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives import AdversarialObjective, Objective
from vaelab.training.distributed import Distributed


@dataclass
class DiscriminatorTraining:
    """An adversarial objective's discriminator with its own optimizer: one step per VAE step, on the same
    batch, after the VAE step; saved in and restored from the training checkpoint. Under torchrun its
    loss goes through ``trained``, the module in DistributedDataParallel, so its gradients are averaged
    over processes like the VAE's (each process's discriminator batch is its slice of the global batch)."""

    module: torch.nn.Module
    trained: torch.nn.Module
    optimizer: torch.optim.Optimizer

    @classmethod
    def of(cls, objective: Objective, device: torch.device, processes: Distributed) -> DiscriminatorTraining | None:
        if not isinstance(objective, AdversarialObjective):
            return None
        if objective.discriminator is None:
            raise UserError(f"{type(objective).__name__} has no discriminator; pass one or make it bindable")
        module = objective.discriminator.to(device)
        return cls(module, processes.wrap(module, device), objective.discriminator_optimizer())

    def step(self, objective: AdversarialObjective, model: VAE, batch: Batch) -> torch.Tensor:
        loss = dataclasses.replace(objective, discriminator=self.trained).discriminator_loss(model, batch)  # type: ignore[type-var]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()
