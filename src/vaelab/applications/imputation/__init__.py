"""Missing values: imputation by importance sampling and by Metropolis-within-Gibbs, and ``VAEImputer``."""

from vaelab.applications.imputation.gibbs import GibbsChain, metropolis_within_gibbs
from vaelab.applications.imputation.importance import (
    conditional_log_likelihood,
    conditional_mean,
    importance_draws,
    resampled_imputations,
)
from vaelab.applications.imputation.imputer import VAEImputer

__all__ = [
    "GibbsChain",
    "VAEImputer",
    "conditional_log_likelihood",
    "conditional_mean",
    "importance_draws",
    "metropolis_within_gibbs",
    "resampled_imputations",
]
