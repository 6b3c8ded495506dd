"""Discretised mixture of logistics for data on a grid of ``levels`` values in [0, 1].

Salimans et al. 2017, "PixelCNN++", eq. 2: the probability of a bin is the logistic CDF mass between
its edges, with the first and last bins extended to -inf and +inf. Channels are modelled independently
given z (the decoder, not an autoregressive model, carries the dependence).
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution, constraints
from torch.nn import functional as F


class DiscretizedLogisticMixture(Distribution):
    """Per-element distribution; parameters have shape ``(*batch, M)`` for M mixture components.

    Values live in model space ``[0, 1]`` on the grid ``k / (levels - 1)``; internally they are mapped
    to ``[-1, 1]`` where a bin has half-width ``1 / (levels - 1)``.
    """

    arg_constraints = {
        "logit_weights": constraints.real,
        "loc": constraints.real,
        "log_scale": constraints.real,
    }
    support = constraints.unit_interval
    has_rsample = False

    def __init__(self, logit_weights: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor, levels: int) -> None:
        self.logit_weights = logit_weights
        self.loc = loc
        self.log_scale = log_scale.clamp(min=-7.0)
        self.levels = levels
        super().__init__(batch_shape=loc.shape[:-1], validate_args=False)

    def _log_bin_mass(self, x: torch.Tensor) -> torch.Tensor:
        """log P(bin containing x) per component, shape ``(*batch, M)``."""
        y = (2.0 * x - 1.0).unsqueeze(-1)  # model space [0, 1] -> [-1, 1]
        half_bin = 1.0 / (self.levels - 1)
        inv_scale = torch.exp(-self.log_scale)
        centered = y - self.loc
        upper = inv_scale * (centered + half_bin)
        lower = inv_scale * (centered - half_bin)
        log_cdf_upper = upper - F.softplus(upper)  # log sigmoid(upper); used at the bottom edge
        log_one_minus_cdf_lower = -F.softplus(lower)  # log(1 - sigmoid(lower)); used at the top edge
        cdf_delta = torch.sigmoid(upper) - torch.sigmoid(lower)
        mid = inv_scale * centered
        # log pdf at the bin centre times the bin width: used where the CDF difference underflows.
        log_pdf_mid = mid - self.log_scale - 2.0 * F.softplus(mid) + torch.log(torch.tensor(2 * half_bin))
        interior = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)), log_pdf_mid)
        return torch.where(
            y < -1 + half_bin / 2,
            log_cdf_upper,
            torch.where(y > 1 - half_bin / 2, log_one_minus_cdf_lower, interior),
        )

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        log_weights = F.log_softmax(self.logit_weights, dim=-1)
        return torch.logsumexp(log_weights + self._log_bin_mass(value), dim=-1)

    def _grid_probs(self) -> torch.Tensor:
        """Probability of every grid value, shape ``(levels, *batch)``."""
        grid = torch.linspace(0, 1, self.levels, device=self.loc.device).reshape(-1, *[1] * len(self.batch_shape))
        return self.log_prob(grid.expand(self.levels, *self.batch_shape)).exp()

    @property
    def mean(self) -> torch.Tensor:
        grid = torch.linspace(0, 1, self.levels, device=self.loc.device).reshape(-1, *[1] * len(self.batch_shape))
        return (self._grid_probs() * grid).sum(0)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            shape = torch.Size(sample_shape) + self.batch_shape
            component = torch.distributions.Categorical(logits=self.logit_weights).sample(sample_shape)
            loc = self.loc.expand(shape + self.loc.shape[-1:]).gather(-1, component.unsqueeze(-1)).squeeze(-1)
            log_scale = (
                self.log_scale.expand(shape + self.loc.shape[-1:]).gather(-1, component.unsqueeze(-1)).squeeze(-1)
            )
            u = torch.rand(shape, device=self.loc.device).clamp(1e-5, 1 - 1e-5)
            y = loc + log_scale.exp() * (torch.log(u) - torch.log1p(-u))  # inverse logistic CDF
            k = torch.round((y.clamp(-1, 1) + 1) / 2 * (self.levels - 1))
            return k / (self.levels - 1)
