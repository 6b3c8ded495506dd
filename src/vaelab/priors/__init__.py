"""Priors: () -> p(z)."""

from vaelab.priors.hierarchical import HierarchicalPrior
from vaelab.priors.mixture import MixtureOfGaussiansPrior
from vaelab.priors.standard_normal import StandardNormalPrior
from vaelab.priors.vamp import VampPrior

__all__ = ["HierarchicalPrior", "MixtureOfGaussiansPrior", "StandardNormalPrior", "VampPrior"]
