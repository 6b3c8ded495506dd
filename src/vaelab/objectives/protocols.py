"""What the training loop may ask of an objective beyond ``(model, batch) -> ObjectiveOutput``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.objectives.base import Objective


@runtime_checkable
class BindableObjective(Protocol):
    """An objective that must know what it trains. ``bind(model, num_examples)`` returns a copy completed
    for training ``model`` on ``num_examples`` examples (a discriminator sized to the latent space, the
    dataset size of a minibatch estimator); ``fit`` calls it once, before the first step."""

    def bind(self, model: VAE, num_examples: int) -> Objective: ...


@runtime_checkable
class LabelledShareObjective(Protocol):
    """An objective weighted by how many training rows carry a label. ``for_labelled_share(num_examples,
    num_labelled)`` returns a copy completed for those counts; ``fit`` calls it once, before the first step."""

    def for_labelled_share(self, num_examples: int, num_labelled: int) -> Objective: ...


@runtime_checkable
class AdversarialObjective(Protocol):
    """An objective with a discriminator trained by its own optimizer. After every VAE step the trainer
    takes one step of ``discriminator_optimizer()`` on ``discriminator_loss(model, batch)``. The
    discriminator is a field holding a module, so ``dataclasses.replace`` (schedules) shares it; it is
    saved in training checkpoints with its optimizer state, and never in the saved VAE."""

    @property
    def discriminator(self) -> torch.nn.Module | None: ...

    def discriminator_optimizer(self) -> torch.optim.Optimizer: ...

    def discriminator_loss(self, model: VAE, batch: Batch) -> torch.Tensor: ...
