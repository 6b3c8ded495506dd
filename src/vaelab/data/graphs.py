"""Graph datasets by name or path: ``cora``, a graph .npz, or an edge-list .csv (``kind="graph"``) with an
optional node-feature file; each split a :func:`~vaelab.data.graph_batch.graph_dataset` of the seeded edge split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.data.cora import load_cora
from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import EdgeSplit, split_edges
from vaelab.data.graph import GRAPH_KEYS, Graph, read_edge_list, read_graph_npz, read_node_features, with_features
from vaelab.data.graph_batch import graph_dataset
from vaelab.errors import UserError

GRAPH_DATASETS: dict[str, Callable[[Path | None], Graph]] = {"cora": load_cora}
"""Registered name -> loader(data_dir) of a graph."""


@dataclass(frozen=True)
class GraphOptions:
    """``split_seed``: the seed of the edge split; ``node_features``: a .npy or .csv of one row per node."""

    split_seed: int = 0
    node_features: str | None = None


def is_graph(name_or_path: str, kind: str | None) -> bool:
    """A registered graph, data stated to be a graph, or a .npz holding a graph's keys."""
    if name_or_path in GRAPH_DATASETS or kind == "graph":
        return True
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as stored:
            return all(key in stored.files for key in GRAPH_KEYS)
    except Exception:
        return False


def load_graph(name_or_path: str, data_dir: Path | None, options: GraphOptions | None = None) -> Graph:
    """The graph ``name_or_path`` names, with the node features of ``options``."""
    options = options or GraphOptions()
    loader = GRAPH_DATASETS.get(name_or_path)
    path = Path(name_or_path).expanduser()
    if loader is not None:
        graph = loader(data_dir)
    elif not path.is_file():
        raise UserError(
            f"{name_or_path}: no such graph file (a .npz with {', '.join(GRAPH_KEYS)}, or an edge-list .csv)"
        )
    elif path.suffix.lower() == ".npz":
        graph = read_graph_npz(path)
    elif path.suffix.lower() == ".csv":
        graph = read_edge_list(path)
    else:
        raise UserError(f"{path}: a graph is a .npz (keys {', '.join(GRAPH_KEYS)}) or an edge-list .csv")
    if options.node_features is not None:
        features = Path(options.node_features).expanduser()
        if not features.is_file():
            raise UserError(f"{features}: no such node-feature file")
        graph = with_features(graph, read_node_features(features, graph.num_nodes), str(features))
    return graph


def seeded_split(name_or_path: str, data_dir: Path | None, options: GraphOptions | None = None) -> EdgeSplit:
    """The seeded edge split of the graph ``name_or_path`` names."""
    options = options or GraphOptions()
    return split_edges(load_graph(name_or_path, data_dir, options), options.split_seed)


def load_graph_split(
    name_or_path: str, split: str, data_dir: Path | None, options: GraphOptions | None = None
) -> ArrayDataset:
    """Split ``split`` ("train", "valid", "test") of a graph under its seeded edge split."""
    options = options or GraphOptions()
    graph = load_graph(name_or_path, data_dir, options)
    return graph_dataset(graph, split_edges(graph, options.split_seed), split)


def cleaning_note(graph: Graph) -> str | None:
    """One line counting the self-loops and duplicate edges dropped on reading, or None when there were none."""
    dropped = {what: count for what, count in (graph.cleaned or {}).items() if count}
    if not dropped:
        return None
    counts = ", ".join(f"{count} {what.replace('_', '-')}" for what, count in dropped.items())
    return f"{graph.name}: dropped {counts} (each undirected edge is kept once)"
