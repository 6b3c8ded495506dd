"""What FactorVAE and the adversarial autoencoder share: a latent discriminator with its own optimizer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Self

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.nn.discriminator import PAPER_HIDDEN, Discriminator


def classification_loss(logit_positive: torch.Tensor, logit_negative: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of a discriminator, positives labelled 1 and negatives 0, each set's mean
    weighted 1/2: ``-1/2 (E log D(positive) + E log (1 - D(negative)))`` (Goodfellow et al. 2014, eq. 1)."""
    return 0.5 * (F.softplus(-logit_positive).mean() + F.softplus(logit_negative).mean())


def with_fixed_parameters(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``module(inputs)`` with the module's parameters detached: gradients reach the inputs, never the module."""
    parameters = {name: parameter.detach() for name, parameter in module.named_parameters()}
    outputs: torch.Tensor = torch.func.functional_call(module, parameters, (inputs,))
    return outputs


@dataclass(frozen=True, kw_only=True)
class WithDiscriminator:
    """A latent discriminator and the settings of its Adam optimizer.

    ``discriminator`` is None until ``bind`` (called by ``fit``) creates one of ``discriminator_hidden``
    layers on the model's device; pass a module to train your own. It is the one mutable field: schedules
    replace the other fields with ``dataclasses.replace``, which keeps the same module.
    """

    discriminator: nn.Module | None = None
    discriminator_hidden: tuple[int, ...] = PAPER_HIDDEN
    discriminator_lr: float = 1e-4
    discriminator_betas: tuple[float, float] = (0.5, 0.9)

    def bind(self, model: VAE, num_examples: int) -> Self:
        if self.discriminator is not None:
            return self
        parameter = next(model.parameters())
        discriminator = self.new_discriminator(model)
        return dataclasses.replace(self, discriminator=discriminator.to(parameter.device, parameter.dtype))

    def new_discriminator(self, model: VAE) -> nn.Module:
        """The untrained discriminator ``bind`` gives the objective: over ``model``'s latent codes here."""
        return Discriminator(model.latent_dim, self.discriminator_hidden)

    def discriminator_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(
            self.critic().parameters(), lr=self.discriminator_lr, betas=self.discriminator_betas, foreach=True
        )

    def judge(self, z: torch.Tensor) -> torch.Tensor:
        """The discriminator's logits for codes ``z`` with its parameters held fixed: the VAE loss sends
        gradients to z (the encoder) and never to the discriminator, which only its own loss trains."""
        return with_fixed_parameters(self.critic(), z)

    def classify(self, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
        """The discriminator's ``classification_loss`` on codes ``positive`` and ``negative`` (each (B, D)),
        in one forward pass: DistributedDataParallel expects one forward per backward."""
        logits = self.critic()(torch.cat([positive, negative]))  # (B_positive + B_negative,)
        return classification_loss(logits[: len(positive)], logits[len(positive) :])

    def critic(self) -> nn.Module:
        """The discriminator; a one-line error when there is none yet."""
        if self.discriminator is None:
            raise UserError(
                f"{type(self).__name__} has no discriminator yet: pass discriminator=Discriminator(latent_dim) "
                "or train with vaelab.training.fit, which creates one"
            )
        return self.discriminator
