"""Drawn pairs against all pairs on a graph above the all-pairs threshold (issue 24).

Graphs of more than ``all_pairs_max_nodes`` (5,000) nodes train the ``edges`` likelihood on every edge and
``negatives`` times as many uniformly drawn pairs, an unbiased estimate of the all-pairs sum. No large real
graph is in ../shared/data, so this draws one: 6,000 nodes in 30 communities (pairs within a community linked
with probability 0.03), 6,000 random pairs across, features the community's indicator plus Gaussian noise of
unit scale. VGAE, 200 whole-graph steps at lr 0.01, seed 0, edge split seed 0, the step with the best validation
pairs kept; ROC-AUC and AP on the test pairs, and the training time, for the default (1 drawn pair per labelled
pair), 5 drawn pairs, and all pairs (the threshold raised above the node count).

    .venv/bin/python bench/graphs/large_graph.py
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import torch

from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.batch import graph_batch
from vaelab.data.edge_split import split_edges
from vaelab.data.graph import Graph
from vaelab.data.graph_batch import graph_dataset
from vaelab.evaluation.links import link_scores
from vaelab.training import TrainSettings, fit

NODES, COMMUNITIES, WITHIN, ACROSS = 6000, 30, 0.03, 6000
SETTINGS = {"drawn pairs, 1 per edge (default)": {}, "drawn pairs, 5 per edge": {"negatives": 5}}
SETTINGS["all pairs"] = {"all_pairs_max_nodes": NODES}


def community_graph(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    community = rng.integers(0, COMMUNITIES, NODES)
    pairs = []
    for c in range(COMMUNITIES):
        members = np.flatnonzero(community == c)
        u, v = np.triu_indices(len(members), 1)
        keep = rng.random(len(u)) < WITHIN
        pairs.append(np.stack([members[u[keep]], members[v[keep]]], axis=1))
    pairs.append(rng.integers(0, NODES, (ACROSS, 2)))
    both = np.concatenate(pairs)
    both = both[both[:, 0] != both[:, 1]]
    edges = np.unique(np.sort(both, axis=1), axis=0)
    features = np.eye(COMMUNITIES)[community] + rng.normal(0.0, 1.0, (NODES, COMMUNITIES))
    return Graph(NODES, edges, sp.csr_matrix(features.astype(np.float32)), "communities")


def main() -> None:
    torch.set_num_threads(2)
    graph = community_graph()
    split = split_edges(graph, seed=0)
    train, valid, test = (graph_dataset(graph, split, part) for part in ("train", "valid", "test"))
    print(f"{graph.num_nodes} nodes, {len(graph.edges)} edges")
    print("| edge likelihood | ROC-AUC | AP | train s |")
    print("|---|---|---|---|")
    for name, options in SETTINGS.items():
        torch.manual_seed(0)
        config = ModelConfig.model_validate({"preset": "vgae", "likelihood": {"name": "edges", **options}})
        model = build_model(model_spec(config, train))
        settings = TrainSettings(epochs=200, lr=0.01, progress=False, monitor="reconstruction")
        started = time.perf_counter()
        fit(model, build_objective(ObjectiveConfig(), "vgae"), train, valid, settings)
        seconds = time.perf_counter() - started
        scores = link_scores(model, graph_batch(test, "cpu"))
        print(f"| {name} | {scores.roc_auc:.4f} | {scores.average_precision:.4f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
