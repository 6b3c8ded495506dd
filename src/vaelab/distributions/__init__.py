"""Only what torch.distributions lacks, plus the KL helper that falls back to Monte Carlo."""

from vaelab.distributions.atom_mixture import AtomGaussianMixture
from vaelab.distributions.column_categoricals import CategoryLayout, ColumnCategoricals
from vaelab.distributions.discretized_logistic import DiscretizedLogisticMixture
from vaelab.distributions.flow import FlowDistribution
from vaelab.distributions.gaussian_mixture import DiagonalGaussianMixture
from vaelab.distributions.grid_categorical import GridCategorical
from vaelab.distributions.index_categorical import IndexCategorical
from vaelab.distributions.kl import kl_estimate, kl_per_dim
from vaelab.distributions.log_mean_exp import log_mean_exp
from vaelab.distributions.softmax_categorical import SoftmaxCategorical
from vaelab.distributions.step_gaussian import StepGaussian
from vaelab.distributions.tempered import tempered
from vaelab.distributions.top_down import TopDownChain

__all__ = [
    "AtomGaussianMixture",
    "CategoryLayout",
    "ColumnCategoricals",
    "DiagonalGaussianMixture",
    "DiscretizedLogisticMixture",
    "FlowDistribution",
    "GridCategorical",
    "IndexCategorical",
    "SoftmaxCategorical",
    "StepGaussian",
    "TopDownChain",
    "kl_estimate",
    "kl_per_dim",
    "log_mean_exp",
    "tempered",
]
