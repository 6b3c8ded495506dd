"""The semi-supervised objective of M2 (Kingma et al. 2014, eq. 9): the bound of every row, L(x, y) where the
class is known and U(x) with it enumerated where not (``vaelab.models.label_bounds``), plus a classification
loss on the labelled rows, so that q(y|x) also learns from the labels directly."""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch.nn import functional as F

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.label_bounds import label_bounds
from vaelab.objectives.base import ObjectiveOutput, single_process


@dataclass(frozen=True)
class M2:
    """Kingma et al.'s J^alpha = J + alpha E_labelled[-log q(y|x)], with J the sum of the bounds over the N rows
    of the data and their alpha = 0.1 N (eq. 9), divided by N and estimated on a batch of B rows::

        loss = (1/B) [ sum_batch -bound + alpha (N / N_l) sum_labelled-in-batch -log q(y|x) ]

    an unbiased estimate when the N_l labelled rows appear in batches at their share of the data, as they do in
    an epoch's permutation; ``alpha = 0.1`` is the paper's. ``rows_per_labelled_row`` = N / N_l is set by the
    trainer from the training data (``for_labelled_share``). In evaluation (``model.eval()``) every row's bound
    is U(x), a bound on log p(x) that reads no label, so the epoch a run keeps and the ELBO it reports never
    use labels.
    """

    alpha: float = 0.1
    rows_per_labelled_row: float = 1.0

    def for_labelled_share(self, num_examples: int, num_labelled: int) -> M2:
        if num_labelled == 0:
            raise UserError("no training row is labelled: M2 needs a label for some rows of every class")
        return replace(self, rows_per_labelled_row=num_examples / num_labelled)

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        model = single_process(model, "m2")
        bounds = label_bounds(model, batch, use_labels=model.training)
        loss = -bounds.terms["elbo"].mean()
        if model.training and bool(bounds.labelled.any()):
            assert batch.y is not None
            logits = bounds.q_y.logits[bounds.labelled]  # (L, K)
            cross_entropy = F.cross_entropy(logits, batch.y[bounds.labelled], reduction="sum")
            loss = loss + self.alpha * self.rows_per_labelled_row * cross_entropy / len(batch)
        return ObjectiveOutput(loss, bounds.terms)
