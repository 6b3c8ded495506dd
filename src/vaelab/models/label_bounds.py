"""The bounds of a model with a class label as a second latent variable (Kingma et al. 2014, M2, §3.1.2).

For a row whose class y is known, the bound on log p(x, y) (eq. 6)::

    L(x, y) = E_q(z|x,y)[log p(x|y, z)] - KL(q(z|x, y) || p(z)) + log p(y)

and for a row whose class is not known, the bound on log p(x) with y summed out under q(y|x) (eq. 7)::

    U(x) = sum_y q(y|x) L(x, y) + H(q(y|x))

Every class of every unlabelled row is scored in one batched pass: the encoder's features are computed once per
row and the K copies differ only in the condition (no Python loop over classes). p(y) is uniform over the K
classes, as in the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch.distributions import Categorical

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models.vae import VAE, elbo_terms


@dataclass(frozen=True)
class LabelBounds:
    """``terms``: per-row ``elbo`` (L(x, y) or U(x)), ``reconstruction`` and ``kl`` (``elbo = reconstruction -
    kl``; the kl holds KL(q(y|x) || p(y)) or -log p(y)), each ``(B,)``; ``q_y`` the classifier's q(y|x), batch
    ``(B,)``; ``labelled`` ``(B,)`` bool, the rows scored with their known class."""

    terms: dict[str, torch.Tensor]
    q_y: Categorical
    labelled: torch.Tensor


def label_bounds(model: VAE, batch: Batch, use_labels: bool = True, num_samples: int = 1) -> LabelBounds:
    """L(x, y) for the rows of ``batch`` whose class is known (``Batch.labelled``; all rows when it is None and
    ``y`` is set) and U(x) for the others; with ``use_labels=False`` U(x) for every row, a bound on log p(x)
    that no label enters. The expectations over z are averages over ``num_samples`` codes."""
    num_classes = model.num_classes
    if model.classifier is None or num_classes is None:
        raise UserError("this model has no classifier q(y|x): build it with --model m2")
    if batch.graph is not None:
        raise UserError("a model with a classifier reads independent rows, not the nodes of a graph")
    q_y = model.q_y(batch.x, batch.mask)
    labelled = _labelled_rows(batch, use_labels)
    known = labelled.nonzero().squeeze(1)  # (L,)
    unknown = (~labelled).nonzero().squeeze(1)  # (U,)
    # rows: the known rows once with their class, then every unknown row once per class (class-major)
    classes = torch.arange(num_classes, device=batch.x.device)
    rows = torch.cat([known, unknown.repeat(num_classes)])  # (L + K U,)
    known_classes = known if batch.y is None else batch.y[known]  # (L,); empty when no label is known
    row_classes = torch.cat([known_classes, classes.repeat_interleave(len(unknown))])  # (L + K U,)
    h = model.encoder_features(batch.x, batch.mask)  # (B, H)
    expanded = replace(batch.take(rows), y=row_classes, labelled=None)
    terms = elbo_terms(model.pass_from(model.posterior_given(h[rows], row_classes), expanded, num_samples))
    log_p_y = -math.log(num_classes)
    terms["kl"] = terms["kl"] - log_p_y
    terms["elbo"] = terms["elbo"] + log_p_y
    known_terms = {name: value[: len(known)] for name, value in terms.items()}  # (L,) each
    probs = q_y.probs[unknown]  # (U, K)
    summed = {name: (probs * value[len(known) :].view(num_classes, -1).T).sum(-1) for name, value in terms.items()}
    kl_y = (probs * (q_y.logits[unknown] - log_p_y)).sum(-1)  # KL(q(y|x) || p(y)), (U,)
    summed["kl"] = summed["kl"] + kl_y + log_p_y  # the summed -log p(y) is inside KL(q(y|x) || p(y))
    summed["elbo"] = summed["reconstruction"] - summed["kl"]
    out = {}
    for name in ("elbo", "reconstruction", "kl"):
        value = batch.x.new_empty(len(batch), dtype=terms[name].dtype)
        value[known] = known_terms[name]
        value[unknown] = summed[name]
        out[name] = value
    return LabelBounds(out, q_y, labelled)


def _labelled_rows(batch: Batch, use_labels: bool) -> torch.Tensor:
    """``(B,)`` bool: the rows to score with their known class."""
    if not use_labels or batch.y is None:
        return torch.zeros(len(batch), dtype=torch.bool, device=batch.x.device)
    if batch.y.dim() != 1 or batch.y.is_floating_point():
        raise UserError("a model with a classifier learns class labels (N,), not condition vectors")
    if batch.labelled is None:
        return torch.ones(len(batch), dtype=torch.bool, device=batch.x.device)
    return batch.labelled


@torch.inference_mode()
def marginal_log_likelihood(model: VAE, batch: Batch, num_samples: int = 1000) -> torch.Tensor:
    """Importance-sampled ``log p(x) = log sum_y p(y) p(x|y)`` per row, (B,): each class's ``p(x|y)`` by
    ``VAE.log_likelihood`` with q(z|x, y) as the proposal, the classes summed exactly. No label is read."""
    num_classes = model.num_classes
    assert num_classes is not None
    per_class = [
        model.log_likelihood(
            replace(batch, y=torch.full((len(batch),), k, device=batch.x.device), labelled=None),
            num_samples=num_samples,
        )
        for k in range(num_classes)  # an estimate, not a training pass: one class at a time bounds memory
    ]
    return torch.logsumexp(torch.stack(per_class), dim=0) - math.log(num_classes)
