"""Missing values: imputation by importance sampling and by Metropolis-within-Gibbs, and ``VAEImputer``.

The names are imported on first use (``vaelab.lazy``): the report's inpainting pictures use the importance
sampler without loading scikit-learn, which only ``VAEImputer`` needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        "GibbsChain": f"{__name__}.gibbs",
        "metropolis_within_gibbs": f"{__name__}.gibbs",
        "conditional_log_likelihood": f"{__name__}.importance",
        "conditional_mean": f"{__name__}.importance",
        "importance_draws": f"{__name__}.importance",
        "resampled_imputations": f"{__name__}.importance",
        "VAEImputer": f"{__name__}.imputer",
    },
)
