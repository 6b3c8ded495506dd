"""Discrete posterior heads: h -> relaxed one-hot categoricals (Gumbel-softmax), and the JointVAE head
h -> a diagonal Gaussian beside them.

In training (``module.training``) the groups are the concrete relaxation at the part's ``temperature``, so
codes are reparameterised samples inside the simplices (Jang et al. 2017; Maddison et al. 2017); in evaluation
(``model.eval()``) they are the exact one-hot categoricals, so the validation ELBO, ``VAE.log_likelihood`` and
sampling are those of the discrete model (Maddison et al. 2017, §5 evaluate the discrete model the same way).
An objective that anneals the temperature sets it with :func:`set_temperature` before each pass.
"""

from __future__ import annotations

import torch
from torch import nn

from vaelab.distributions.one_hot_groups import JointLatent, OneHotGroups
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior

DEFAULT_TEMPERATURE = 1.0
"""The training temperature until an objective sets one (Jang et al. 2017, §4 start annealing from 1)."""


class Relaxed(nn.Module):
    """A part whose one-hot groups are relaxed at ``temperature`` in training and exact in evaluation."""

    def __init__(self) -> None:
        super().__init__()
        self.temperature = DEFAULT_TEMPERATURE

    def relaxation(self) -> float | None:
        """The temperature of this pass: ``temperature`` in training, None (exact groups) in evaluation."""
        return self.temperature if self.training else None


def set_temperature(model: nn.Module, temperature: float) -> None:
    """Relax every one-hot part of ``model`` (posterior and prior alike) at ``temperature`` from now on."""
    for module in model.modules():
        if isinstance(module, Relaxed):
            module.temperature = temperature


class RelaxedCategoricalPosterior(Relaxed):
    """q(c|x): ``groups`` categoricals of ``categories`` each, their logits a linear map of h; the code is the
    ``groups * categories`` one-hot entries, group after group (Jang et al. 2017, §3.1 and their VAE, §4.2)."""

    def __init__(self, in_features: int, groups: int, categories: int) -> None:
        super().__init__()
        self.groups, self.categories = groups, categories
        self.latent_dim = groups * categories
        self.linear = nn.Linear(in_features, self.latent_dim)

    def forward(self, h: torch.Tensor) -> OneHotGroups:
        logits = self.linear(h).unflatten(-1, (self.groups, self.categories))  # (B, N, K)
        return OneHotGroups(logits, self.relaxation())


class JointPosterior(nn.Module):
    """q(z, c|x) = q(z|x) q(c|x): a diagonal Gaussian over the first ``continuous_dim`` entries and the
    relaxed categoricals over the rest, both read from the same h (Dupont 2018, §3)."""

    def __init__(self, in_features: int, continuous_dim: int, groups: int, categories: int, min_scale: float) -> None:
        super().__init__()
        self.continuous = DiagonalGaussianPosterior(in_features, continuous_dim, min_scale)
        self.discrete = RelaxedCategoricalPosterior(in_features, groups, categories)
        self.latent_dim = continuous_dim + self.discrete.latent_dim

    def forward(self, h: torch.Tensor) -> JointLatent:
        return JointLatent(self.continuous(h), self.discrete(h))
