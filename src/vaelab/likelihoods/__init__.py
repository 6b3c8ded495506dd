"""Likelihoods: decoder output -> p(x|z) as a torch distribution with event shape = data shape."""

from vaelab.likelihoods.base import Likelihood, MaskableIndependent
from vaelab.likelihoods.bernoulli import BernoulliLikelihood
from vaelab.likelihoods.categorical import CategoricalLikelihood
from vaelab.likelihoods.continuous_bernoulli import ContinuousBernoulliLikelihood
from vaelab.likelihoods.gaussian import GaussianLikelihood
from vaelab.likelihoods.logistic import DiscretizedLogisticLikelihood
from vaelab.likelihoods.tokens import TokensLikelihood

__all__ = [
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "ContinuousBernoulliLikelihood",
    "DiscretizedLogisticLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "MaskableIndependent",
    "TokensLikelihood",
]
