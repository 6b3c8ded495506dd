"""The semi-supervised objective of M2 (Kingma et al. 2014, eq. 9): the bound of every row, L(x, y) where the
class is known and U(x) with it enumerated where not (``vaelab.models.label_bounds``), plus a classification
loss on the labelled rows, so that q(y|x) also learns from the labels directly."""

from __future__ import annotations

from dataclasses import dataclass

from torch.nn import functional as F

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.models.label_bounds import label_bounds
from vaelab.objectives.base import ObjectiveOutput, single_process


@dataclass(frozen=True)
class M2:
    """``loss = -mean_rows bound + alpha * mean_labelled [-log q(y|x)]``.

    Kingma et al. write J^alpha = J + alpha E_labelled[-log q(y|x)] with J summed over the N rows of the data and
    alpha = 0.1 N; divided by N that is the per-row mean of the bounds plus 0.1 times the mean classification
    loss, hence ``alpha = 0.1``. In evaluation (``model.eval()``) every row's bound is U(x), a bound on log p(x)
    that reads no label, so the epoch a run keeps and the ELBO it reports never use labels.
    """

    alpha: float = 0.1

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        model = single_process(model, "m2")
        bounds = label_bounds(model, batch, use_labels=model.training)
        loss = -bounds.terms["elbo"].mean()
        if model.training and bool(bounds.labelled.any()):
            assert batch.y is not None
            logits = bounds.q_y.logits[bounds.labelled]  # (L, K)
            loss = loss + self.alpha * F.cross_entropy(logits, batch.y[bounds.labelled])
        return ObjectiveOutput(loss, bounds.terms)
