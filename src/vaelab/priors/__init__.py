"""Priors: () -> p(z); a conditional prior: condition features -> p(z|c)."""

from vaelab.priors.conditional import ConditionalGaussianPrior
from vaelab.priors.hierarchical import HierarchicalPrior
from vaelab.priors.mixture import MixtureOfGaussiansPrior
from vaelab.priors.standard_normal import StandardNormalPrior
from vaelab.priors.vamp import VampPrior

__all__ = [
    "ConditionalGaussianPrior",
    "HierarchicalPrior",
    "MixtureOfGaussiansPrior",
    "StandardNormalPrior",
    "VampPrior",
]
