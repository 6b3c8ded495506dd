"""Only what torch.distributions lacks, plus the KL helper that falls back to Monte Carlo."""

from vaelab.distributions.discretized_logistic import DiscretizedLogisticMixture
from vaelab.distributions.grid_categorical import GridCategorical
from vaelab.distributions.kl import has_closed_form_kl, kl_estimate

__all__ = ["DiscretizedLogisticMixture", "GridCategorical", "has_closed_form_kl", "kl_estimate"]
