"""Posterior heads: encoder features h -> q(z|x)."""

from vaelab.posteriors.flow import FlowPosterior
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior
from vaelab.posteriors.iaf import IAFPosterior, IAFStep
from vaelab.posteriors.ladder import LadderPosterior
from vaelab.posteriors.planar import PlanarPosterior, PlanarStep

__all__ = [
    "DiagonalGaussianPosterior",
    "FlowPosterior",
    "IAFPosterior",
    "IAFStep",
    "LadderPosterior",
    "PlanarPosterior",
    "PlanarStep",
]
