"""Likelihoods: decoder output -> p(x|z) as a torch distribution with event shape = data shape."""

from vaelab.likelihoods.base import Likelihood, MaskableIndependent
from vaelab.likelihoods.bernoulli import BernoulliLikelihood
from vaelab.likelihoods.categorical import CategoricalLikelihood
from vaelab.likelihoods.categorical_columns import CategoricalColumnsLikelihood
from vaelab.likelihoods.columns import ColumnsDistribution, ColumnsLikelihood
from vaelab.likelihoods.continuous_bernoulli import ContinuousBernoulliLikelihood
from vaelab.likelihoods.count import NegativeBinomialLikelihood, PoissonLikelihood
from vaelab.likelihoods.edges import EdgeDistribution, EdgeLikelihood
from vaelab.likelihoods.gaussian import GaussianLikelihood
from vaelab.likelihoods.gaussian_mixture import GaussianMixtureLikelihood
from vaelab.likelihoods.logistic import DiscretizedLogisticLikelihood
from vaelab.likelihoods.ordinal import OrdinalLikelihood
from vaelab.likelihoods.tokens import TokensLikelihood

__all__ = [
    "BernoulliLikelihood",
    "CategoricalColumnsLikelihood",
    "CategoricalLikelihood",
    "ColumnsDistribution",
    "ColumnsLikelihood",
    "ContinuousBernoulliLikelihood",
    "DiscretizedLogisticLikelihood",
    "EdgeDistribution",
    "EdgeLikelihood",
    "GaussianLikelihood",
    "GaussianMixtureLikelihood",
    "Likelihood",
    "MaskableIndependent",
    "NegativeBinomialLikelihood",
    "OrdinalLikelihood",
    "PoissonLikelihood",
    "TokensLikelihood",
]
