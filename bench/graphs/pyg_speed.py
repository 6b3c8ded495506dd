"""Graph convolution on Cora: vaelab's torch.sparse GCN encoder against PyTorch Geometric's GCNConv (issue 24).

The question the issue asks: use ``torch_geometric`` if it installs cleanly with our pinned torch and is faster,
else torch's sparse tensors. Both encoders here are the VGAE's (Kipf & Welling 2016): a graph convolution
1433 -> 32 with a ReLU, then one of 32 -> 2 x 16 (the posterior's location and scale), on Cora's training graph
(edge split seed 0). PyG's is two ``GCNConv`` layers (self-loops and symmetric normalisation, as ours), given the
same weights, so the outputs are checked equal before timing. Timed: forward, and forward + backward of the
outputs' sum, median of ``--rounds`` rounds of ``--repeats`` calls each, alternating the two, in one process on
``--threads`` threads. Also timed: one whole training step of vaelab's VGAE (the ``edges`` likelihood over all
pairs, Adam), to show the encoder's share of a step.

Runs in its own environment (PyG is not a dependency of vaelab):

    python3 -m venv ../bench-envs/pyg
    ../bench-envs/pyg/bin/pip install -c constraints.txt -e . torch_geometric
    ../bench-envs/pyg/bin/python bench/graphs/pyg_speed.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch_geometric
from torch_geometric.nn import GCNConv

from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.batch import graph_batch
from vaelab.data.graphs import GraphOptions, load_graph_split


class PyGEncoder(torch.nn.Module):
    def __init__(self, features: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.first = GCNConv(features, hidden, bias=False)
        self.second = GCNConv(hidden, 2 * latent)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.second(torch.relu(self.first(x, edge_index)), edge_index)


def seconds(call: Callable[[], object], repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_graph_split("cora", "train", args.data_dir, GraphOptions(split_seed=0))
    batch = graph_batch(data, "cpu")
    assert batch.graph is not None
    torch.manual_seed(0)
    model = build_model(model_spec(ModelConfig(preset="vgae", latent_dim=16), data))
    ours = lambda: model.posterior.linear(model.encoder(batch.x, batch.graph.adjacency))  # noqa: E731

    pyg = PyGEncoder(data.x.shape[1], 32, 16)
    with torch.no_grad():  # the same weights: PyG's lin.weight is (out, in), as nn.Linear's
        pyg.first.lin.weight.copy_(model.encoder.layers[0].weight)
        pyg.second.lin.weight.copy_(model.posterior.linear.weight)
        pyg.second.bias.copy_(model.posterior.linear.bias)
    edges = batch.graph.edges.T
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)  # both directions; GCNConv adds the self-loops
    theirs = lambda: pyg(batch.x, edge_index)  # noqa: E731
    difference = (ours() - theirs()).abs().max().item()
    assert difference < 1e-4, f"the two encoders differ by {difference}"

    def backward(encoder: Callable[[], torch.Tensor]) -> Callable[[], None]:
        return lambda: encoder().sum().backward()

    objective = build_objective(ObjectiveConfig(), "vgae")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    def training_step() -> None:
        optimizer.zero_grad()
        objective(model, batch).loss.backward()
        optimizer.step()

    timings: dict[str, list[float]] = {name: [] for name in ("ours fwd", "pyg fwd", "ours fwd+bwd", "pyg fwd+bwd")}
    timings["vaelab VGAE training step"] = []
    for _ in range(args.rounds):
        with torch.no_grad():
            timings["ours fwd"].append(seconds(ours, args.repeats))
            timings["pyg fwd"].append(seconds(theirs, args.repeats))
        timings["ours fwd+bwd"].append(seconds(backward(ours), args.repeats))
        timings["pyg fwd+bwd"].append(seconds(backward(theirs), args.repeats))
        timings["vaelab VGAE training step"].append(seconds(training_step, 5))
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"torch {torch.__version__}, torch_geometric {torch_geometric.__version__}, {args.threads} threads")
    print(f"outputs equal to {difference:.1e}; Cora training graph, {len(batch.graph.edges)} edges")
    print("| | ms (median) |")
    print("|---|---|")
    for name, value in median.items():
        print(f"| {name} | {1000 * value:.2f} |")
    print(f"| PyG / ours, forward | {median['pyg fwd'] / median['ours fwd']:.2f} |")
    print(f"| PyG / ours, forward + backward | {median['pyg fwd+bwd'] / median['ours fwd+bwd']:.2f} |")


if __name__ == "__main__":
    main()
