"""A run's graph: the graph options of its data config, and its splits under the edge split the run stored."""

from __future__ import annotations

from pathlib import Path

from vaelab.config.files import read_run_config
from vaelab.config.schema import DataConfig
from vaelab.data.batch import Batch, graph_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import SPLIT_NAME, EdgeSplit
from vaelab.data.graph_batch import graph_dataset
from vaelab.data.graphs import GraphOptions, load_graph
from vaelab.data.registry import resolve_data_dir


def graph_options(data: DataConfig) -> GraphOptions:
    return GraphOptions(split_seed=data.split_seed, node_features=data.node_features)


def run_graph_split(run_dir: Path, data: DataConfig, split: str) -> ArrayDataset:
    """Split ``split`` of the graph a run was trained on, under the edge split it stored (``edge_split.npz``),
    so evaluation scores exactly the edges the run held out."""
    graph = load_graph(data.name, resolve_data_dir(data.data_dir), graph_options(data))
    return graph_dataset(graph, EdgeSplit.load(run_dir / SPLIT_NAME), split)


def run_graph(run_dir: str | Path, split: str = "test") -> Batch:
    """The graph a run was trained on as one ``Batch``: node features, the training edges, and the held-out
    pairs of ``split`` ("valid" or "test"; "train" scores every pair against the training edges)."""
    run_dir = Path(run_dir)
    return graph_batch(run_graph_split(run_dir, read_run_config(run_dir).data, split), "cpu")
