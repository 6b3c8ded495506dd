"""Bernoulli likelihood with logits, for binary (or binarised) data."""

from __future__ import annotations

import torch
from torch.distributions import Bernoulli
from torch.nn import functional as F

from vaelab.likelihoods.base import Likelihood, MaskableIndependent


class IndependentBernoulli(MaskableIndependent):
    """Bernoulli(logits l) independent over the data dimensions, with a two-pass ``log_prob``.

    ``log p(x) = sum_d x_d l_d - sum_d softplus(l_d)`` (the Bernoulli log-mass in natural parameters),
    the same value as the summed binary cross-entropy with logits, computed as one contraction and one
    softplus pass instead of about seven elementwise passes (for ``l: (500, 20, 784)`` against ``x: (20,
    784)``, as in importance-sampled evaluation; timed in bench/speed/results.md, importance-sampled evaluation).
    """

    def masked_log_prob(self, value: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        n = self.reinterpreted_batch_ndims
        logits = self.base_dist.logits.flatten(-n)  # (..., D)
        x = value.flatten(-n).to(logits.dtype)  # broadcasts against the leading dims of logits
        softplus = F.softplus(logits)  # (..., D)
        if mask is not None:  # unobserved entries add nothing: x_d = 0 drops x_d l_d, where() drops softplus(l_d)
            observed = mask.flatten(-n)
            x, softplus = torch.where(observed, x, 0.0), torch.where(observed, softplus, 0.0)
        if logits.shape[:-1].numel() > x.shape[:-1].numel():  # several z samples share each x: one bmm
            dot = torch.einsum("...d,...d->...", logits, x)
        else:  # one z per x (training): a product and a sum, which beat a batch of tiny matmuls
            dot = (logits * x).sum(-1)
        return dot - softplus.sum(-1)


class BernoulliLikelihood(Likelihood):
    name = "bernoulli"
    params_per_element = 1

    independent = IndependentBernoulli

    def element_distribution(self, eta: torch.Tensor) -> Bernoulli:
        (logits,) = self.split(eta)
        return Bernoulli(logits=logits, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if bool(((x != 0) & (x != 1)).any()):
            return "values other than 0 and 1 found; use --likelihood continuous-bernoulli for grey levels in [0, 1]"
        return None
