"""Imputation by importance sampling from q(z | x_observed) (Mattei & Frellsen 2019, "MIWAE", §4).

For one example with observed entries x_o and missing entries x_m, draw ``z_1..z_K ~ q(z | x_o)`` and weigh
them by ``w_k = p(x_o | z_k) p(z_k) / q(z_k | x_o)``; the self-normalised weights ``w~_k = w_k / sum_j w_j``
turn the draws into an approximation of p(z | x_o), and so of ``p(x_m | x_o) = E_{p(z|x_o)} p(x_m | z)``:

- the conditional mean ``E[x_m | x_o] ~= sum_k w~_k E[x_m | z_k]`` (their eq. 10): single imputation; a
  categorical entry takes its most probable category under ``sum_k w~_k p(x_m | z_k)`` instead;
- sampling importance resampling: pick ``k`` with probability ``w~_k``, then draw ``x_m ~ p(x_m | z_k)``
  (their §4.2): draws from p(x_m | x_o) as K grows, one per multiple imputation;
- ``log p(x_m | x_o) ~= log sum_k w_k p(x_m | z_k) - log sum_k w_k`` when the hidden values are known: the
  importance-sampled conditional log-likelihood that inpainting is scored by.

Every function works on a ``Batch`` whose ``mask`` marks the observed entries; memory stays bounded by
evaluating a chunk of rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.distributions import Distribution

from vaelab.data.batch import Batch
from vaelab.distributions.index_categorical import IndexCategorical
from vaelab.errors import UserError
from vaelab.likelihoods.base import MaskableIndependent
from vaelab.likelihoods.columns import ColumnsDistribution
from vaelab.models import VAE


def row_chunks(model: VAE, rows: int, num_samples: int) -> Iterator[slice]:
    """Slices of ``rows`` rows, few enough per slice that K decoder outputs per row fit in a bounded chunk."""
    if num_samples < 1:
        raise UserError(f"the number of importance samples must be at least 1, not {num_samples}")
    step = max(1, model.rows_per_chunk() // num_samples)
    for start in range(0, rows, step):
        yield slice(start, start + step)


def importance_draws(model: VAE, batch: Batch, num_samples: int) -> tuple[torch.Tensor, Distribution, torch.Tensor]:
    """``z: (K, B, D)`` drawn from q(z | x_o), ``p(x | z)`` with batch ``(K, B)``, and the log weights
    ``log p(x_o | z) + log p(z) - log q(z | x_o)``, ``(K, B)`` (Burda et al. 2016, eq. 8 over x_o)."""
    out = model.pass_from(model.encode(batch.x, batch.y, batch.mask), batch, num_samples)
    return out.z, out.p_x, out.log_weights()


def weighted_point(p_x: Distribution, weights: torch.Tensor) -> torch.Tensor:
    """The point prediction ``(B, *data_shape)`` from p(x | z_k) (batch ``(K, B)``) mixed with ``weights:
    (K, B)`` summing to one over K: the mixture's mean, or for categorical elements its most probable value."""
    if isinstance(p_x, ColumnsDistribution):
        return p_x.assemble([weighted_point(distribution, weights) for distribution, _ in p_x.groups])
    base = p_x.base_dist if isinstance(p_x, MaskableIndependent) else p_x
    extra = p_x.event_shape
    w = weights.reshape(*weights.shape, *([1] * len(extra)))  # (K, B, 1, ...)
    if isinstance(base, IndexCategorical):
        probs = (w.unsqueeze(-1) * base.probs).sum(0)  # (B, *event, classes)
        return probs.argmax(-1).to(base.logits.dtype)
    return (w * p_x.mean).sum(0)


def _filled(batch: Batch, values: torch.Tensor) -> torch.Tensor:
    """The batch's observed entries with ``values: (..., B, *data_shape)`` in the missing ones."""
    return values if batch.mask is None else torch.where(batch.mask, batch.x, values)


@torch.inference_mode()
def conditional_mean(model: VAE, batch: Batch, num_samples: int = 1000) -> torch.Tensor:
    """``(B, *data_shape)``: the batch with each missing entry replaced by its importance-sampled
    conditional mean ``sum_k w~_k E[x_m | z_k]`` (the mode for categorical entries)."""
    imputed = []
    for rows in row_chunks(model, len(batch), num_samples):
        part = batch.rows(rows.start, rows.stop)
        _, p_x, log_w = importance_draws(model, part, num_samples)
        imputed.append(_filled(part, weighted_point(p_x, torch.softmax(log_w, dim=0))))
    return torch.cat(imputed)


@torch.inference_mode()
def resampled_imputations(model: VAE, batch: Batch, num_imputations: int, num_samples: int = 1000) -> torch.Tensor:
    """``(M, B, *data_shape)``: M multiple imputations by sampling importance resampling: for each, a code
    ``z_k`` picked with probability ``w~_k`` among K draws from q(z | x_o), then ``x_m ~ p(x_m | z_k)``."""
    if num_imputations < 1:
        raise UserError(f"the number of imputations must be at least 1, not {num_imputations}")
    imputed = []
    for rows in row_chunks(model, len(batch), num_samples):
        part = batch.rows(rows.start, rows.stop)
        z, _, log_w = importance_draws(model, part, num_samples)
        picks = torch.distributions.Categorical(logits=log_w.T).sample((num_imputations,))  # (M, B)
        chosen = z.gather(0, picks.unsqueeze(-1).expand(-1, -1, z.shape[-1]))  # (M, B, D)
        imputed.append(_filled(part, model.decode(chosen, part.y).sample()))
    return torch.cat(imputed, dim=1)


@torch.inference_mode()
def conditional_log_likelihood(model: VAE, batch: Batch, target: torch.Tensor, num_samples: int = 1000) -> torch.Tensor:
    """``(B,)`` importance-sampled ``log p(x_t | x_o)`` in nats, for the entries ``target: (B, *data_shape)``
    bool, whose true values ``batch.x`` holds although ``batch.mask`` hides them from the model:
    ``logsumexp_k (log w_k + log p(x_t | z_k)) - logsumexp_k log w_k`` with the weights of x_o alone. It
    converges to the true value as K grows (the ratio of two consistent estimates)."""
    if batch.mask is None:
        raise UserError("conditional_log_likelihood needs a batch whose mask marks the observed entries")
    if tuple(target.shape) != tuple(batch.x.shape):
        raise UserError(f"the target mask has shape {tuple(target.shape)}, the data {tuple(batch.x.shape)}")
    values = []
    for rows in row_chunks(model, len(batch), num_samples):
        part = batch.rows(rows.start, rows.stop)
        observed = part.mask if part.mask is not None else torch.ones_like(target[rows])
        hidden = target[rows] & ~observed
        _, p_x, log_w = importance_draws(model, part, num_samples)
        log_p_target = model.likelihood.log_prob(p_x, part.x, hidden)  # (K, B)
        values.append(torch.logsumexp(log_w + log_p_target, 0) - torch.logsumexp(log_w, 0))
    return torch.cat(values)
