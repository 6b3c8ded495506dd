"""Posterior heads: encoder features h -> q(z|x)."""

from vaelab.posteriors.gaussian import DiagonalGaussianPosterior

__all__ = ["DiagonalGaussianPosterior"]
