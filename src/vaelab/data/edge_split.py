"""The edge split of link prediction (Kipf & Welling 2016, §4): held-out edges, and as many sampled non-edges.

Of a graph's E undirected edges, ``floor(E * test_fraction)`` go to the test set and ``floor(E *
valid_fraction)`` to the validation set (drawn with a seed); the rest are the training edges, the only ones
a model sees. Each held-out set gets as many non-edges: node pairs ``u != v`` drawn uniformly among those
that are not edges of the whole graph, all distinct. A run stores its split (``edge_split.npz``) so
evaluation scores exactly the edges it held out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from vaelab.atomic import atomic_save_npz
from vaelab.data.graph import Graph
from vaelab.errors import UserError

SPLIT_NAME = "edge_split.npz"


@dataclass(frozen=True)
class EdgeSplit:
    """Node pairs ``(n, 2)`` int64, each ``u < v``: the training edges, and held-out edges and non-edges."""

    train: np.ndarray
    valid: np.ndarray
    valid_non_edges: np.ndarray
    test: np.ndarray
    test_non_edges: np.ndarray

    def held_out(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(P, 2)`` and labels ``(P,)`` (1: an edge) of ``split`` ("valid" or "test")."""
        if split not in ("valid", "test"):
            raise UserError(f"held-out edges are in the splits valid and test, not {split!r}")
        edges, non_edges = getattr(self, split), getattr(self, f"{split}_non_edges")
        labels = np.concatenate([np.ones(len(edges)), np.zeros(len(non_edges))]).astype(np.float32)
        return np.concatenate([edges, non_edges]), labels

    def save(self, path: Path) -> None:
        atomic_save_npz(path, {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> EdgeSplit:
        if not path.is_file():
            raise UserError(f"{path} is missing: the run has no edge split (was it trained on a graph?)")
        with np.load(path, allow_pickle=False) as stored:
            return cls(**{f.name: stored[f.name].astype(np.int64) for f in fields(cls)})


def split_edges(graph: Graph, seed: int, valid_fraction: float = 0.05, test_fraction: float = 0.10) -> EdgeSplit:
    """The seeded split of ``graph``'s edges into training, validation and test edges, with sampled non-edges."""
    edges = graph.edges
    num_test, num_valid = int(len(edges) * test_fraction), int(len(edges) * valid_fraction)
    if num_test < 1 or num_valid < 1 or len(edges) - num_test - num_valid < 1:
        raise UserError(
            f"{graph.name}: {len(edges)} edges are too few to hold out {valid_fraction:.0%} for validation and "
            f"{test_fraction:.0%} for test; link prediction needs at least 20 edges"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(edges))
    test, valid, train = np.split(edges[order], [num_test, num_test + num_valid])
    non_edges = _sample_non_edges(graph, num_test + num_valid, rng)
    return EdgeSplit(_sorted(train), _sorted(valid), non_edges[num_test:], _sorted(test), non_edges[:num_test])


def pair_keys(pairs: np.ndarray, num_nodes: int) -> np.ndarray:
    """One int64 key per undirected pair ``(u, v)``: ``min * N + max``."""
    low, high = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return low.astype(np.int64) * num_nodes + high


def _sample_non_edges(graph: Graph, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct pairs ``u < v`` that are not edges of ``graph``, drawn uniformly, in draw order."""
    n = graph.num_nodes
    available = n * (n - 1) // 2 - len(graph.edges)
    if count > available:
        raise UserError(f"{graph.name}: the graph is too dense to draw {count} non-edges for evaluation")
    taken = set(pair_keys(graph.edges, n).tolist())
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < count:
        draws = rng.integers(0, n, size=(2 * (count - len(chosen)) + 16, 2))
        draws = draws[draws[:, 0] != draws[:, 1]]
        for key in pair_keys(draws, n).tolist():
            if key not in taken and key not in seen:
                seen.add(key)
                chosen.append(key)
                if len(chosen) == count:
                    break
    keys = np.array(chosen, dtype=np.int64)
    return np.stack([keys // n, keys % n], axis=1)


def _sorted(pairs: np.ndarray) -> np.ndarray:
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
