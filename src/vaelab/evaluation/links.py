"""Link prediction: how well a graph model's edge probabilities rank held-out edges above non-edges.

The scores are the edge probabilities at the posterior means, ``sigmoid(mu_u . mu_v)``, as Kipf & Welling 2016
score them; ROC-AUC and average precision come from scikit-learn, on the held-out edges and as many sampled
non-edges (:mod:`vaelab.data.edge_split`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE


@dataclass(frozen=True)
class LinkScores:
    """ROC-AUC and average precision (fractions) over ``pairs`` held-out pairs."""

    roc_auc: float
    average_precision: float
    pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return {"roc_auc": self.roc_auc, "average_precision": self.average_precision, "pairs": self.pairs}


@torch.inference_mode()
def node_embeddings(model: VAE, batch: Batch) -> torch.Tensor:
    """Each node's posterior mean ``(N, D)``, given the graph's features and its (training) edges."""
    if batch.graph is None:
        raise UserError("node embeddings need a graph's batch (Batch.graph)")
    model.eval()
    return model.encode(batch.x, mask=batch.mask, graph=batch.graph).mean


@torch.inference_mode()
def edge_probabilities(model: VAE, batch: Batch, pairs: torch.Tensor) -> torch.Tensor:
    """``(P,)`` edge probabilities of the node pairs ``pairs: (P, 2)`` at the posterior means."""
    z = node_embeddings(model, batch)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise UserError(f"pairs must be node pairs, shape (P, 2); got {tuple(pairs.shape)}")
    if len(pairs) and (int(pairs.min()) < 0 or int(pairs.max()) >= len(z)):
        raise UserError(f"pairs name nodes outside 0..{len(z) - 1}")
    return torch.sigmoid((z[pairs[:, 0]] * z[pairs[:, 1]]).sum(-1))


def link_scores(model: VAE, batch: Batch) -> LinkScores:
    """ROC-AUC and average precision of the held-out pairs of ``batch`` (a graph's valid or test split)."""
    graph = batch.graph
    if graph is None or graph.pairs is None or graph.labels is None:
        raise UserError("link prediction scores held-out edges: use a graph's valid or test split")
    scores = edge_probabilities(model, batch, graph.pairs).cpu().numpy()
    labels = graph.labels.cpu().numpy()
    if np.unique(labels).size < 2:
        raise UserError("link prediction needs held-out edges and non-edges both")
    from sklearn.metrics import average_precision_score, roc_auc_score  # scikit-learn: only when links are scored

    return LinkScores(float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores)), len(labels))
