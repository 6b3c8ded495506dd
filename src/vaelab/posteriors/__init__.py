"""Posterior heads: encoder features h -> q(z|x)."""

from vaelab.posteriors.flow import FlowPosterior
from vaelab.posteriors.gaussian import DiagonalGaussianPosterior
from vaelab.posteriors.iaf import IAFPosterior, IAFStep
from vaelab.posteriors.ladder import LadderPosterior
from vaelab.posteriors.planar import PlanarPosterior, PlanarStep
from vaelab.posteriors.point import PointMass, PointPosterior

__all__ = [
    "DiagonalGaussianPosterior",
    "FlowPosterior",
    "IAFPosterior",
    "IAFStep",
    "LadderPosterior",
    "PlanarPosterior",
    "PlanarStep",
    "PointMass",
    "PointPosterior",
]
