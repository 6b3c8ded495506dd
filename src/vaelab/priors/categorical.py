"""Discrete priors: uniform one-hot categoricals p(c), and the JointVAE prior p(z) p(c) = N(0, I) x uniform.

Like the posteriors of ``vaelab.posteriors.categorical``, they are relaxed at their ``temperature`` in training
(so a Monte Carlo bound such as the IWAE's compares densities of the same kind) and exact in evaluation, where
sampling draws one uniform category per group.
"""

from __future__ import annotations

import torch

from vaelab.distributions.one_hot_groups import JointLatent, OneHotGroups
from vaelab.posteriors.categorical import Relaxed
from vaelab.priors.standard_normal import StandardNormalPrior


class UniformCategoricalPrior(Relaxed):
    """p(c): ``groups`` independent uniform categoricals of ``categories`` each (Jang et al. 2017, §4.2)."""

    def __init__(self, groups: int, categories: int) -> None:
        super().__init__()
        self.register_buffer("logits", torch.zeros(groups, categories), persistent=False)

    logits: torch.Tensor

    def forward(self) -> OneHotGroups:
        return OneHotGroups(self.logits, self.relaxation())


class JointPrior(torch.nn.Module):
    """p(z, c) = N(z; 0, I) prod_n Uniform(c_n) (Dupont 2018, §3), the Gaussian's entries first."""

    def __init__(self, continuous_dim: int, groups: int, categories: int) -> None:
        super().__init__()
        self.continuous = StandardNormalPrior(continuous_dim)
        self.discrete = UniformCategoricalPrior(groups, categories)

    def forward(self) -> JointLatent:
        return JointLatent(self.continuous(), self.discrete())
