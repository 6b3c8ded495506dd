"""Link prediction on Cora (issue 24): VGAE and GAE against spectral embedding, over random edge splits.

For each edge split (seeds 0..S-1; 85 % training, 5 % validation, 10 % test edges with as many sampled
non-edges, as Kipf & Welling 2016 split them): ``vgae`` and ``gae`` trained exactly as ``vaelab train --data cora
--model NAME`` trains them (``train_from_config``: 200 whole-graph Adam steps at 0.01, the epoch with the best
held-out validation pairs kept), scored on the test pairs by ROC-AUC and average precision
(``vaelab.evaluation.links``); and in the same run scikit-learn's ``SpectralEmbedding`` of the training adjacency
(128 dimensions, as the paper embeds its spectral baseline), scoring a pair by the inner product of its nodes'
embeddings. The
table prints the mean and standard deviation over the splits next to the paper's Table 1, and the median
wall-clock time of one split's training (``train_from_config``, data loading included; torch on 2 threads).

    .venv/bin/python bench/graphs/link_prediction.py --data-dir ../shared/data --splits 10
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.manifold import SpectralEmbedding
from sklearn.metrics import average_precision_score, roc_auc_score

from vaelab.config.graphs import graph_options, run_graph_split
from vaelab.config.run import train_from_config
from vaelab.config.schema import RunConfig
from vaelab.data.batch import graph_batch
from vaelab.data.graphs import load_graph, seeded_split
from vaelab.evaluation.links import link_scores

SPECTRAL_DIMENSIONS = 128  # Kipf & Welling 2016, §4: "embedding dimension of 128" for spectral clustering
PUBLISHED = {  # Kipf & Welling 2016, Table 1: (ROC-AUC, AP) on Cora
    "vgae": (0.914, 0.926),
    "gae": (0.910, 0.920),
    "spectral": (0.846, 0.885),
    "DeepWalk": (0.831, 0.850),
}


def train_and_score(preset: str, seed: int, data_dir: Path, latent_dim: int | None) -> tuple[float, float, float]:
    """(ROC-AUC, AP, training seconds) of ``preset`` on edge split ``seed``, trained as ``vaelab train`` does."""
    model = {"preset": preset} | ({} if latent_dim is None else {"latent_dim": latent_dim})
    config = RunConfig.model_validate(
        {
            "data": {"name": "cora", "data_dir": str(data_dir), "split_seed": seed},
            "model": model,
            "train": {"seed": seed},
            "report": False,
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        run = train_from_config(config, Path(folder) / "run", progress=False)
        seconds = time.perf_counter() - started
        scores = link_scores(run.model, graph_batch(run_graph_split(run.run_dir, config.data, "test"), "cpu"))
    return scores.roc_auc, scores.average_precision, seconds


def spectral_scores(seed: int, data_dir: Path, dimensions: int) -> tuple[float, float, float]:
    """(ROC-AUC, AP, seconds) of a spectral embedding of the training adjacency, pairs scored by inner products."""
    config = RunConfig.model_validate({"data": {"name": "cora", "data_dir": str(data_dir), "split_seed": seed}})
    graph = load_graph("cora", data_dir, graph_options(config.data))
    split = seeded_split("cora", data_dir, graph_options(config.data))
    started = time.perf_counter()
    u, v = split.train[:, 0], split.train[:, 1]
    n = graph.num_nodes
    adjacency = sp.coo_matrix((np.ones(2 * len(u)), (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
    with warnings.catch_warnings():  # Cora's training graph has many components, which the embedding notes
        warnings.simplefilter("ignore", UserWarning)
        embedding = SpectralEmbedding(dimensions, affinity="precomputed", random_state=seed).fit_transform(adjacency)
    seconds = time.perf_counter() - started
    pairs, labels = split.held_out("test")
    scores = (embedding[pairs[:, 0]] * embedding[pairs[:, 1]]).sum(1)
    return float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--latent-dim", type=int, default=None, help="default: the library's")
    args = parser.parse_args()
    torch.set_num_threads(2)
    results: dict[str, list[tuple[float, float, float]]] = {"vgae": [], "gae": [], "spectral": []}
    for seed in range(args.splits):
        for preset in ("vgae", "gae"):
            results[preset].append(train_and_score(preset, seed, args.data_dir, args.latent_dim))
        results["spectral"].append(spectral_scores(seed, args.data_dir, SPECTRAL_DIMENSIONS))
        print(
            f"split {seed}: " + "  ".join(f"{k} {v[-1][0]:.4f}/{v[-1][1]:.4f}" for k, v in results.items()), flush=True
        )
    print(f"\nCora link prediction, {args.splits} edge splits (mean ± sd); paper: Kipf & Welling 2016, Table 1")
    print("| method | ROC-AUC | AP | paper ROC-AUC | paper AP | train s (median) |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        auc, ap, seconds = (np.array(column) for column in zip(*rows, strict=True))
        paper = PUBLISHED[name]
        print(
            f"| {name} | {auc.mean():.4f} ± {auc.std(ddof=1):.4f} | {ap.mean():.4f} ± {ap.std(ddof=1):.4f} | "
            f"{paper[0]:.3f} | {paper[1]:.3f} | {statistics.median(seconds):.1f} |"
        )
    print(f"| DeepWalk (paper only) | | | {PUBLISHED['DeepWalk'][0]:.3f} | {PUBLISHED['DeepWalk'][1]:.3f} | |")


if __name__ == "__main__":
    main()
