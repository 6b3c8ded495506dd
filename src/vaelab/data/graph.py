"""Graphs as data: nodes, undirected edges and optional node features, read from a .npz or an edge-list .csv.

A :class:`Graph` keeps each undirected edge once, as ``(u, v)`` with ``u < v``; self-loops and duplicate
edges in a user's file are dropped and counted (:attr:`Graph.cleaned`), and an edge naming a node outside
``0 .. num_nodes - 1`` is refused. Node features are a sparse matrix ``(N, F)`` (bag-of-words features
such as Cora's are mostly zeros); a graph without them gets the identity (each node its own one-hot
feature), as Kipf & Welling 2016 do for featureless graphs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vaelab.errors import UserError

if TYPE_CHECKING:
    import scipy.sparse as sp

GRAPH_KEYS = ("num_nodes", "edges")
"""The keys that make a .npz a graph (Cora's layout; see ``../shared/data/cora/SOURCE.md``)."""
FEATURE_KEYS = ("features_indptr", "features_indices", "features_data", "features_shape")
"""Optional keys of a graph .npz: the node features as the arrays of a CSR matrix."""
MAX_NODES = 1 << 26  # a node count above this is a typo or a hostile file, refused before anything is allocated


@dataclass(frozen=True)
class Graph:
    """An undirected graph: ``edges (E, 2)`` int64, each edge once with ``u < v``; ``features`` ``(N, F)`` CSR or
    None (featureless); ``cleaned`` the self-loops and duplicate edges dropped on reading."""

    num_nodes: int
    edges: np.ndarray
    features: sp.csr_matrix | None
    name: str
    cleaned: dict[str, int] | None = None

    @property
    def num_features(self) -> int:
        return self.num_nodes if self.features is None else int(self.features.shape[1])

    def feature_matrix(self) -> sp.csr_matrix:
        """The node features ``(N, F)`` float32 CSR; the identity for a featureless graph."""
        if self.features is None:
            import scipy.sparse as sp  # scipy: only when a graph is read

            return sp.identity(self.num_nodes, dtype=np.float32, format="csr")
        return self.features.astype(np.float32).tocsr()


@dataclass(frozen=True)
class GraphEdges:
    """The edges of one split of a graph dataset (numpy, as stored): ``edges (E, 2)`` the message-passing
    (training) edges, each once with ``u < v``; ``pairs (P, 2)`` and ``labels (P,)`` the held-out pairs a split
    scores, None for the training split (which scores every pair against ``edges``)."""

    num_nodes: int
    edges: np.ndarray
    pairs: np.ndarray | None = None
    labels: np.ndarray | None = None


def clean_edges(pairs: np.ndarray, num_nodes: int, source: str) -> tuple[np.ndarray, dict[str, int]]:
    """Node pairs ``(M, 2)`` -> each undirected edge once (``u < v``, sorted), with the number of self-loops and
    duplicates dropped; a node outside ``0 .. num_nodes - 1`` is a one-line error naming the first such pair."""
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise UserError(f"{source}: edges must be pairs of node ids, shape (E, 2); got shape {pairs.shape}")
    if pairs.size and not np.issubdtype(pairs.dtype, np.integer):
        whole = np.isfinite(pairs) & (pairs == np.round(pairs)) if np.issubdtype(pairs.dtype, np.number) else None
        if whole is None or not bool(whole.all()):
            raise UserError(f"{source}: node ids must be whole numbers")
    pairs = pairs.astype(np.int64)
    outside = (pairs < 0) | (pairs >= num_nodes)
    if bool(outside.any()):
        row = int(np.flatnonzero(outside.any(axis=1))[0])
        u, v = pairs[row]
        raise UserError(
            f"{source}: edge {row + 1} ({u}, {v}) names a node outside 0..{num_nodes - 1} (the graph has "
            f"{num_nodes} nodes); fix the edge or the node count"
        )
    loops = pairs[:, 0] == pairs[:, 1]
    ordered = np.sort(pairs[~loops], axis=1)
    unique = np.unique(ordered, axis=0) if len(ordered) else ordered.reshape(0, 2)
    return unique, {"self_loops": int(loops.sum()), "duplicates": len(ordered) - len(unique)}


def read_graph_npz(path: Path, name: str | None = None) -> Graph:
    """A graph .npz with ``num_nodes`` and ``edges`` and optionally the CSR arrays of its node features."""
    with np.load(path, allow_pickle=False) as stored:
        missing = [key for key in GRAPH_KEYS if key not in stored.files]
        if missing:
            raise UserError(f"{path}: a graph .npz needs the keys {', '.join(GRAPH_KEYS)}; {missing[0]} is missing")
        num_nodes = _node_count(stored["num_nodes"], path)
        edges, cleaned = clean_edges(stored["edges"], num_nodes, str(path))
        features = None
        if FEATURE_KEYS[0] in stored.files:
            indptr, indices, data, shape = (stored[key] for key in FEATURE_KEYS)
            try:
                import scipy.sparse as sp  # scipy: only when a graph is read

                features = sp.csr_matrix((data, indices, indptr), shape=tuple(int(s) for s in shape))
            except (ValueError, TypeError) as error:
                raise UserError(f"{path}: the node-feature arrays do not form a sparse matrix ({error})") from None
    graph = Graph(num_nodes, edges, None, name or path.stem, cleaned)
    return with_features(graph, features, str(path))


def read_edge_list(path: Path, num_nodes: int | None = None) -> Graph:
    """A .csv of edges, two columns of node ids (0-based) per line; a first line that is not two numbers is
    a header. The node count is ``num_nodes``, else one more than the largest id."""
    try:
        with path.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text .csv of edges") from None
    first = 1
    if rows and not _is_pair(rows[0]):
        rows, first = rows[1:], 2  # a header
    for line, row in enumerate(rows, start=first):
        if not _is_pair(row):
            raise UserError(f"{path}: every row must be two node ids (u,v); row {line} is {','.join(row)!r}")
    pairs = np.array([[int(row[0]), int(row[1])] for row in rows], dtype=np.int64).reshape(-1, 2)
    if num_nodes is None:
        num_nodes = int(pairs.max()) + 1 if len(pairs) else 0
    if num_nodes < 2:
        raise UserError(f"{path}: a graph needs at least two nodes and one edge")
    edges, cleaned = clean_edges(pairs, num_nodes, str(path))
    return Graph(num_nodes, edges, None, path.stem, cleaned)


def read_node_features(path: Path, num_nodes: int) -> sp.csr_matrix:
    """Node features, one row per node: a .npy ``(N, F)`` or a .csv of numbers (a header line is skipped)."""
    if path.suffix == ".npy":
        values = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
        values = _numeric_csv(path)
    else:
        raise UserError(f"{path}: node features must be a .npy or .csv file")
    if values.ndim != 2:
        raise UserError(f"{path}: node features must be a matrix (nodes, features); got shape {values.shape}")
    if len(values) != num_nodes:
        raise UserError(f"{path}: {len(values)} rows of node features for {num_nodes} nodes; give one row per node")
    if not np.issubdtype(values.dtype, np.number) or not bool(np.isfinite(values).all()):
        raise UserError(f"{path}: node features must be finite numbers (no missing or infinite values)")
    import scipy.sparse as sp  # scipy: only when a graph is read

    return sp.csr_matrix(values.astype(np.float32))


def with_features(graph: Graph, features: sp.csr_matrix | None, source: str) -> Graph:
    """``graph`` with node ``features`` (checked: one row per node, finite)."""
    if features is None:
        return graph
    if features.shape[0] != graph.num_nodes:
        raise UserError(
            f"{source}: {features.shape[0]} rows of node features for {graph.num_nodes} nodes; give one row per node"
        )
    if not bool(np.isfinite(features.data).all()):
        raise UserError(f"{source}: node features must be finite numbers")
    return Graph(graph.num_nodes, graph.edges, features.tocsr(), graph.name, graph.cleaned)


def _node_count(value: np.ndarray, source: Path) -> int:
    if value.size != 1 or not np.issubdtype(value.dtype, np.integer) or not 2 <= int(value) <= MAX_NODES:
        raise UserError(f"{source}: num_nodes must be one whole number from 2 to {MAX_NODES}")
    return int(value)


def _is_pair(row: list[str]) -> bool:
    return len(row) == 2 and all(cell.strip().lstrip("-").isdigit() for cell in row)


def _numeric_csv(path: Path) -> np.ndarray:
    try:
        with path.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
        start = 0 if rows and _all_numbers(rows[0]) else 1
        return np.array([[float(cell) for cell in row] for row in rows[start:]], dtype=np.float64)
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{path}: node features must be numbers, one row per node") from None


def _all_numbers(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
