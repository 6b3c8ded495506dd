"""Priors: () -> p(z)."""

from vaelab.priors.standard_normal import StandardNormalPrior

__all__ = ["StandardNormalPrior"]
