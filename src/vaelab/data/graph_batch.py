"""A graph as a model reads it: node features in ``Batch.x``, and a :class:`GraphBatch` in ``Batch.graph``.

A graph dataset (:func:`graph_dataset`) is an ``ArrayDataset`` of one row per node (its features) with
:class:`GraphEdges`: the edges the encoder may propagate over (the training edges, in every split) and the
node pairs a split scores — every pair against the training adjacency for "train", the held-out edges and
non-edges for "valid" and "test". The trainer and evaluation take the whole graph as one batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import EdgeSplit
from vaelab.data.graph import Graph, GraphEdges
from vaelab.errors import UserError

MAX_FEATURE_ELEMENTS = 1 << 28  # node features are held dense: nodes x features up to 1 GiB of float32


@dataclass(frozen=True, eq=False)
class GraphBatch:
    """The graph on a device: ``adjacency`` the sparse ``(N, N)`` symmetrically normalised adjacency with
    self-loops the encoder propagates over; ``edges (E, 2)`` the training edges; ``pairs (P, 2)`` and
    ``labels (P,)`` held-out pairs to score, or None to score every pair against ``edges``."""

    adjacency: torch.Tensor
    edges: torch.Tensor
    num_nodes: int
    pairs: torch.Tensor | None = None
    labels: torch.Tensor | None = None

    @functools.cached_property
    def directed_keys(self) -> torch.Tensor:
        """``(2E + N,)`` sorted keys ``i * N + j`` of the pairs labelled 1 when every pair is scored: both
        directions of each edge and each node with itself (Kipf & Welling's reconstruction target A + I)."""
        rows, cols = self_looped_pairs(self.edges, self.num_nodes)
        return torch.sort(rows * self.num_nodes + cols).values

    def to(self, device: torch.device | str) -> GraphBatch:
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return GraphBatch(
            self.adjacency.to(device), self.edges.to(device), self.num_nodes, move(self.pairs), move(self.labels)
        )


def self_looped_pairs(edges: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ones of ``A + I`` as row and column indices ``(2E + N,)`` each, from undirected ``edges (E, 2)``: both
    directions of each edge, then each node with itself."""
    nodes = torch.arange(num_nodes, device=edges.device)
    return torch.cat([edges[:, 0], edges[:, 1], nodes]), torch.cat([edges[:, 1], edges[:, 0], nodes])


def normalized_adjacency(edges: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``D^-1/2 (A + I) D^-1/2`` as a sparse COO tensor ``(N, N)``, from undirected ``edges (E, 2)`` (Kipf &
    Welling 2017, eq. 2: the renormalised propagation rule of graph convolutional networks)."""
    rows, cols = self_looped_pairs(edges, num_nodes)
    degree = torch.bincount(rows, minlength=num_nodes).float()  # (N,), self-loop included
    scale = degree.rsqrt()
    values = scale[rows] * scale[cols]
    indices = torch.stack([rows, cols])
    return torch.sparse_coo_tensor(indices, values, (num_nodes, num_nodes), check_invariants=True).coalesce()


def to_graph_batch(edges: GraphEdges, device: torch.device | str) -> GraphBatch:
    as_long = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(device)  # noqa: E731
    message = as_long(edges.edges).reshape(-1, 2)
    pairs = None if edges.pairs is None else as_long(edges.pairs)
    labels = None if edges.labels is None else torch.from_numpy(edges.labels.astype(np.float32)).to(device)
    return GraphBatch(normalized_adjacency(message, edges.num_nodes), message, edges.num_nodes, pairs, labels)


def graph_dataset(graph: Graph, split: EdgeSplit, which: str) -> ArrayDataset:
    """Split ``which`` ("train", "valid", "test") of ``graph`` as a dataset of node features with its edges."""
    if graph.num_nodes * graph.num_features > MAX_FEATURE_ELEMENTS:
        raise UserError(
            f"{graph.name}: {graph.num_nodes} nodes x {graph.num_features} features are too many to hold dense; "
            "give fewer node features (a featureless graph has one per node)"
        )
    if which == "train":
        edges = GraphEdges(graph.num_nodes, split.train)
    elif which in ("valid", "test"):
        pairs, labels = split.held_out(which)
        edges = GraphEdges(graph.num_nodes, split.train, pairs, labels)
    else:
        raise UserError(f"a graph has the splits train, valid and test (of its edges), not {which!r}")
    x = graph.feature_matrix().toarray()  # (N, F) float32
    return ArrayDataset(x, None, None, graph.name, kind="graph", graph=edges)
