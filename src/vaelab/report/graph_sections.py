"""The report's sections for a graph model: link prediction on the held-out edges, and the node embeddings.

Kipf & Welling 2016 publish ROC-AUC and average precision on Cora's held-out edges (their Table 1); the run's
own figures stand beside them, scored on the edge split the run stored. The pictures show how the edge
probabilities separate held-out edges from non-edges, and the nodes' posterior means in their first two
principal components.
"""

from __future__ import annotations

import numpy as np

from vaelab.data.batch import graph_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.links import edge_probabilities, link_scores, node_embeddings
from vaelab.models import VAE
from vaelab.report.html import Gallery, Image, Section, Table
from vaelab.report.plots import TRAIN_COLOUR, VALID_COLOUR, _figure, _style, latent_map, to_png

PUBLISHED = {
    "VGAE (Kipf & Welling 2016)": (0.914, 0.926),
    "GAE (Kipf & Welling 2016)": (0.910, 0.920),
    "spectral clustering (their Table 1)": (0.846, 0.885),
    "DeepWalk (their Table 1)": (0.831, 0.850),
}
"""Cora link prediction as published: (ROC-AUC, average precision), means over 10 edge splits."""


def graph_sections(model: VAE, splits: dict[str, ArrayDataset], dataset: str) -> list[Section]:
    """Link prediction on each held-out split (``"valid"``, ``"test"``) and pictures of the test split."""
    rows = []
    for name, data in splits.items():
        scores = link_scores(model, graph_batch(data, "cpu"))
        rows.append(
            [f"this run, {name} ({scores.pairs} pairs)", f"{scores.roc_auc:.4f}", f"{scores.average_precision:.4f}"]
        )
    if dataset == "cora":
        rows += [[name, f"{auc:.3f}", f"{ap:.3f}"] for name, (auc, ap) in PUBLISHED.items()]
    test = splits["test"]
    batch = graph_batch(test, "cpu")
    assert batch.graph is not None and batch.graph.pairs is not None and batch.graph.labels is not None
    probabilities = edge_probabilities(model, batch, batch.graph.pairs).numpy()
    codes = node_embeddings(model, batch).numpy()
    links = Section(
        "links",
        "Link prediction",
        "Edge probabilities sigmoid(μ_u · μ_v) at the posterior means rank the held-out edges against as many "
        "sampled non-edges; the model saw only the training edges.",
        [
            Table(["", "ROC-AUC", "average precision"], rows, "Published rows: means over 10 random edge splits."),
            Gallery(
                [
                    Image(_score_histogram(probabilities, batch.graph.labels.numpy()), "edge probabilities"),
                    Image(latent_map(_principal_components(codes), None, ("PC 1", "PC 2")), "node embeddings"),
                ]
            ),
        ],
    )
    return [links]


def _score_histogram(probabilities: np.ndarray, labels: np.ndarray) -> bytes:
    fig, (ax,) = _figure(5.8, 3.2)
    bins = np.linspace(0, 1, 31).tolist()
    ax.hist(probabilities[labels == 1], bins=bins, alpha=0.7, color=TRAIN_COLOUR, label="held-out edges")
    ax.hist(probabilities[labels == 0], bins=bins, alpha=0.7, color=VALID_COLOUR, label="non-edges")
    ax.legend(fontsize=8, frameon=False)
    _style(ax, "edge probability of the test pairs")
    ax.set_xlabel("p(edge)", fontsize=8)
    return to_png(fig)


def _principal_components(codes: np.ndarray) -> np.ndarray:
    """The codes ``(N, D)`` in their first two principal components ``(N, 2)`` (one component: padded with 0)."""
    centred = codes - codes.mean(0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    points = centred @ directions[:2].T
    return points if points.shape[1] == 2 else np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
