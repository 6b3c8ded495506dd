"""Graphs: reading and cleaning, the edge split, the graph convolution, the edge likelihood's mathematics,
link prediction end to end, and bad input."""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.nn import functional as F

from helpers import vaelab
from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.batch import graph_batch
from vaelab.data.cora import build_npz as build_cora
from vaelab.data.cora import parse_archive
from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import EdgeSplit, pair_keys, split_edges
from vaelab.data.graph import Graph, clean_edges, read_edge_list, read_graph_npz
from vaelab.data.graph_batch import GraphBatch, graph_dataset, normalized_adjacency
from vaelab.data.graphs import load_graph_split
from vaelab.errors import UserError
from vaelab.evaluation.links import edge_probabilities, link_scores, node_embeddings
from vaelab.likelihoods.edges import EdgeDistribution
from vaelab.models import VAE
from vaelab.models.load import load
from vaelab.nn.graph import GCNEncoder
from vaelab.posteriors.point import PointMass
from vaelab.training import TrainSettings, fit

ONE_EPOCH = ("--epochs", "1", "--out")
QUIET = ("--no-report", "--no-progress", "--out")


COMMUNITIES = 4


def block_graph(nodes: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Node i in community i % 4; pairs within a community linked with probability 0.3, across with 0.01;
    features the community's indicator and two noise columns. Returns (edges (E, 2) with u < v, features (N, 6))."""
    rng = np.random.default_rng(seed)
    community = np.arange(nodes) % COMMUNITIES
    u, v = np.triu_indices(nodes, 1)
    keep = rng.random(len(u)) < np.where(community[u] == community[v], 0.3, 0.01)
    features = np.concatenate([np.eye(COMMUNITIES)[community], rng.random((nodes, 2))], axis=1).astype(np.float32)
    return np.stack([u[keep], v[keep]], axis=1), features


def community_oracle_auc(pairs: np.ndarray, labels: np.ndarray) -> float:
    """The ROC-AUC of knowing the communities: a pair scores 1 within one, 0 across (the best any model can
    rank these pairs by, up to noise)."""
    from sklearn.metrics import roc_auc_score

    same = (pairs[:, 0] % COMMUNITIES == pairs[:, 1] % COMMUNITIES).astype(float)
    return float(roc_auc_score(labels, same))


def write_graph_npz(path: Path, edges: np.ndarray, nodes: int, features: np.ndarray | None = None) -> Path:
    arrays: dict[str, np.ndarray] = {"num_nodes": np.array(nodes), "edges": edges.astype(np.int32)}
    if features is not None:
        csr = sp.csr_matrix(features)
        arrays |= {
            "features_indptr": csr.indptr,
            "features_indices": csr.indices,
            "features_data": csr.data,
            "features_shape": np.array(csr.shape),
        }
    np.savez(path, **arrays)
    return path


# ----------------------------------------------------------------- reading
def test_clean_edges_drops_self_loops_and_duplicates_with_a_count() -> None:
    pairs = np.array([[0, 1], [1, 0], [2, 2], [1, 2], [0, 1], [3, 1]])
    edges, cleaned = clean_edges(pairs, 4, "test")
    assert edges.tolist() == [[0, 1], [1, 2], [1, 3]]
    assert cleaned == {"self_loops": 1, "duplicates": 2}


def test_an_edge_naming_a_node_outside_the_graph_is_one_line_naming_it() -> None:
    with pytest.raises(UserError, match=r"edge 2 \(1, 7\) names a node outside 0..4"):
        clean_edges(np.array([[0, 1], [1, 7]]), 5, "g.npz")


def test_edge_list_csv_with_a_header_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    path.write_text("source,target\n0,1\n1,2\n2,2\n", encoding="utf-8")
    graph = read_edge_list(path)
    assert graph.num_nodes == 3 and graph.edges.tolist() == [[0, 1], [1, 2]]
    assert graph.cleaned == {"self_loops": 1, "duplicates": 0}
    path.write_text("0,1\n1,x\n", encoding="utf-8")
    with pytest.raises(UserError, match="row 2 is '1,x'"):
        read_edge_list(path)


def test_graph_npz_with_sparse_features_round_trips(tmp_path: Path) -> None:
    edges, features = block_graph(20)
    graph = read_graph_npz(write_graph_npz(tmp_path / "g.npz", edges, 20, features))
    assert graph.num_nodes == 20 and graph.edges.tolist() == edges.tolist()
    assert np.array_equal(graph.feature_matrix().toarray(), features)
    featureless = read_graph_npz(write_graph_npz(tmp_path / "h.npz", edges, 20))
    assert np.array_equal(featureless.feature_matrix().toarray(), np.eye(20))


def test_cora_is_built_from_the_linqs_archive(tmp_path: Path) -> None:
    """The download path: ``cora.tgz`` from a (file://) mirror, read as text, written as cora.npz."""
    content = "p10\t1\t0\t1\tTheory\np20\t0\t1\t0\tNeural\np30\t1\t1\t0\tTheory\n"
    cites = "p10\tp20\np20\tp10\np30\tp30\np30\tp10\np99\tp10\n"  # a duplicate, a self-citation, an unknown paper
    archive = tmp_path / "mirror" / "cora.tgz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in (("cora/cora.content", content), ("cora/cora.cites", cites)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    graph = parse_archive(archive)
    assert graph.num_nodes == 3 and graph.edges.tolist() == [[0, 1], [0, 2]]
    assert graph.feature_matrix().toarray().tolist() == [[1, 0, 1], [0, 1, 0], [1, 1, 0]]
    folder = tmp_path / "data" / "cora"
    build_cora(folder, [archive.parent.as_uri()])
    stored = read_graph_npz(folder / "cora.npz")
    assert stored.edges.tolist() == graph.edges.tolist() and not (folder / "cora.tgz").exists()


def test_cora_from_the_shared_data(data_dir: Path) -> None:
    train = load_graph_split("cora", "train", data_dir)
    assert train.x.shape == (2708, 1433) and train.schema.kind == "graph"
    assert train.graph is not None and len(train.graph.edges) == 5278 - 527 - 263


# ------------------------------------------------------------------ split
def test_edge_split_sizes_disjointness_and_non_edges() -> None:
    edges, _ = block_graph(120)
    graph = Graph(120, edges, None, "blocks")
    split = split_edges(graph, seed=3)
    e = len(edges)
    assert (len(split.test), len(split.valid)) == (e // 10, e // 20)
    assert len(split.test_non_edges) == len(split.test) and len(split.valid_non_edges) == len(split.valid)
    keys = [set(pair_keys(part, 120).tolist()) for part in (split.train, split.valid, split.test)]
    assert sum(map(len, keys)) == e and set().union(*keys) == set(pair_keys(edges, 120).tolist())
    non = np.concatenate([split.valid_non_edges, split.test_non_edges])
    non_keys = pair_keys(non, 120)
    assert len(set(non_keys.tolist())) == len(non) and not set(non_keys.tolist()) & set().union(*keys)
    assert (non[:, 0] < non[:, 1]).all()
    again = split_edges(graph, seed=3)
    assert np.array_equal(again.test, split.test) and np.array_equal(again.test_non_edges, split.test_non_edges)
    assert not np.array_equal(split_edges(graph, seed=4).test, split.test)


def test_split_save_and_load_round_trip(tmp_path: Path) -> None:
    edges, _ = block_graph(60)
    split = split_edges(Graph(60, edges, None, "g"), seed=0)
    split.save(tmp_path / "edge_split.npz")
    loaded = type(split).load(tmp_path / "edge_split.npz")
    assert all(np.array_equal(getattr(split, f), getattr(loaded, f)) for f in ("train", "valid", "test"))


# -------------------------------------------------------------- the maths
def dense_normalised(edges: np.ndarray, n: int) -> torch.Tensor:
    a = torch.zeros(n, n, dtype=torch.float64)
    a[edges[:, 0], edges[:, 1]] = 1
    a[edges[:, 1], edges[:, 0]] = 1
    a += torch.eye(n, dtype=torch.float64)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def test_normalised_adjacency_is_d_half_a_plus_i_d_half() -> None:
    edges, _ = block_graph(30)
    sparse = normalized_adjacency(torch.from_numpy(edges), 30).to_dense().double()
    assert torch.allclose(sparse, dense_normalised(edges, 30), atol=1e-6)


def test_gcn_encoder_is_a_relu_graph_convolution_then_one_propagation() -> None:
    edges, features = block_graph(30)
    torch.manual_seed(0)
    encoder = GCNEncoder(6, [8]).double()
    a_hat = dense_normalised(edges, 30)
    x = torch.from_numpy(features).double()
    expected = a_hat @ torch.relu(a_hat @ x @ encoder.layers[0].weight.T)
    got = encoder(x, normalized_adjacency(torch.from_numpy(edges), 30).double())
    assert torch.allclose(got, expected, atol=1e-10)


def _batch(edges: np.ndarray, n: int) -> GraphBatch:
    message = torch.from_numpy(edges)
    return GraphBatch(normalized_adjacency(message, n), message, n)


def test_all_pairs_log_likelihood_is_kipf_and_wellings_weighted_cross_entropy() -> None:
    edges, _ = block_graph(40)
    n = 40
    z = torch.randn(2, n, 3, dtype=torch.float64)  # (S, N, D)
    labels = torch.eye(n, dtype=torch.float64)
    labels[edges[:, 0], edges[:, 1]] = labels[edges[:, 1], edges[:, 0]] = 1
    ones = 2 * len(edges)
    pos_weight, norm = (n * n - ones) / ones, n * n / (2 * (n * n - ones))
    logits = z @ z.transpose(-1, -2)
    expected = -norm * F.binary_cross_entropy_with_logits(
        logits, labels.expand(2, n, n), pos_weight=torch.tensor(pos_weight), reduction="sum"
    )
    per_node = EdgeDistribution(z).log_prob_graph(_batch(edges, n))
    assert per_node.shape == (2, n)
    assert torch.allclose(per_node.sum(), expected)
    plain = torch.distributions.Bernoulli(logits=logits).log_prob(labels).sum(-1)  # (S, N)
    assert torch.allclose(EdgeDistribution(z, weighting="none").log_prob_graph(_batch(edges, n)), plain)


def test_sampled_pairs_estimate_the_all_pairs_sum_without_bias() -> None:
    edges, _ = block_graph(50)
    z = torch.randn(50, 2, dtype=torch.float64) * 0.7
    graph = _batch(edges, 50)
    exact = EdgeDistribution(z).log_prob_graph(graph).sum()
    torch.manual_seed(0)
    draws = torch.stack(
        [EdgeDistribution(z, all_pairs_max_nodes=10, negatives=4).log_prob_graph(graph).sum() for _ in range(400)]
    )
    standard_error = draws.std() / math.sqrt(len(draws))
    assert abs(draws.mean() - exact) < 4 * standard_error, (draws.mean(), exact, standard_error)


def test_held_out_pairs_are_scored_unweighted_half_to_each_node() -> None:
    z = torch.randn(6, 2, dtype=torch.float64)
    pairs = torch.tensor([[0, 1], [2, 5], [3, 4]])
    labels = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    graph = GraphBatch(torch.eye(6).to_sparse(), torch.zeros(0, 2, dtype=torch.long), 6, pairs, labels)
    per_node = EdgeDistribution(z).log_prob_graph(graph)
    logits = (z[pairs[:, 0]] * z[pairs[:, 1]]).sum(-1)
    expected = torch.distributions.Bernoulli(logits=logits).log_prob(labels)
    assert torch.allclose(per_node.sum(), expected.sum())
    assert torch.allclose(per_node[0], expected[0] / 2) and torch.allclose(per_node[5], expected[1] / 2)


def test_point_mass_passes_gradients_straight_through() -> None:
    loc = torch.randn(3, 2, requires_grad=True)
    q = PointMass(loc)
    z = q.rsample((4,))
    assert z.shape == (4, 3, 2) and torch.equal(z[1], loc) and torch.equal(q.mean, loc)
    z.sum().backward()
    assert torch.equal(loc.grad, torch.full((3, 2), 4.0))


# ------------------------------------------------------ models end to end
def trained_block_model(preset: str, **likelihood: int) -> tuple[VAE, ArrayDataset]:
    edges, features = block_graph(80, seed=1)
    graph = Graph(80, edges, sp.csr_matrix(features), "blocks")
    split = split_edges(graph, seed=0)
    train, valid, test = (graph_dataset(graph, split, s) for s in ("train", "valid", "test"))
    config = ModelConfig.model_validate(
        {"preset": preset, "latent_dim": 4, "likelihood": {"name": "edges", **likelihood}}
    )
    torch.manual_seed(0)
    model = build_model(model_spec(config, train))
    settings = TrainSettings(epochs=150, lr=0.01, progress=False, monitor="reconstruction")
    fit(model, build_objective(ObjectiveConfig(), preset), train, valid, settings)
    return model, test


@pytest.mark.parametrize(
    ("preset", "likelihood"), [("vgae", {}), ("gae", {}), ("vgae", {"all_pairs_max_nodes": 10, "negatives": 2})]
)
def test_graph_autoencoders_predict_held_out_links_of_a_block_graph(
    preset: str, likelihood: dict[str, int], tmp_path: Path
) -> None:
    """Trained on all pairs, or on the edges and drawn non-edges (as large graphs are), near the oracle."""
    model, test = trained_block_model(preset, **likelihood)
    batch = graph_batch(test, "cpu")
    scores = link_scores(model, batch)
    assert test.graph is not None and test.graph.pairs is not None and test.graph.labels is not None
    assert scores.roc_auc > community_oracle_auc(test.graph.pairs, test.graph.labels) - 0.05, scores
    model.save(tmp_path)
    loaded = load(tmp_path)
    assert torch.allclose(node_embeddings(loaded, batch), node_embeddings(model, batch))
    probabilities = edge_probabilities(model, batch, torch.tensor([[0, 4], [0, 1]]))
    assert probabilities[0] > probabilities[1]  # nodes 0 and 4 share a community, 0 and 1 do not


def test_a_graph_encoder_without_its_graph_is_one_line() -> None:
    edges, features = block_graph(40)
    graph = Graph(40, edges, sp.csr_matrix(features), "g")
    train = graph_dataset(graph, split_edges(graph, 0), "train")
    model = build_model(model_spec(ModelConfig(preset="vgae", latent_dim=2), train))
    with pytest.raises(UserError, match="pass the graph"):
        model.encode(torch.from_numpy(features))


# ------------------------------------------------------------ the command
def test_train_eval_encode_and_report_of_an_edge_list_with_features(tmp_path: Path) -> None:
    edges, features = block_graph(80, seed=2)
    path = tmp_path / "edges.csv"
    rows = [f"{u},{v}" for u, v in edges] + [f"{edges[0, 1]},{edges[0, 0]}", "5,5"]  # a duplicate and a self-loop
    path.write_text("u,v\n" + "\n".join(rows) + "\n", encoding="utf-8")
    np.save(tmp_path / "features.npy", features)
    run = tmp_path / "run"
    code, out, err = vaelab(
        [
            "train",
            "--data",
            str(path),
            "--kind",
            "graph",
            "--node-features",
            str(tmp_path / "features.npy"),
            "--model",
            "vgae",
            "--epochs",
            "120",
            "--no-progress",
            "--out",
            str(run),
        ]
    )
    assert code == 0, err
    assert "dropped 1 self-loops, 1 duplicates" in out + err
    assert (run / "edge_split.npz").is_file() and (run / "report.html").stat().st_size > 10_000
    code, out, err = vaelab(["eval", str(run), "--links", "--json"])
    assert code == 0, err
    figures = json.loads(out)
    pairs, labels = EdgeSplit.load(run / "edge_split.npz").held_out("test")
    assert figures["roc_auc"] > community_oracle_auc(pairs, labels) - 0.05
    assert 0 < figures["average_precision"] <= 1 and figures["pairs"] == len(labels)
    code, out, err = vaelab(["encode", str(run), "--out", str(tmp_path / "z.npy")])
    assert code == 0, err
    assert np.load(tmp_path / "z.npy").shape == (80, 20)
    code, _, err = vaelab(["reconstruct", str(run), "--out", str(tmp_path / "r.npy")])
    assert code == 1 and "acts on single examples, not graphs" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: write_graph_npz(p / "g.npz", np.array([[0, 1], [1, 9]]), 5), "names a node outside 0..4"),
        (lambda p: write_graph_npz(p / "g.npz", np.array([[0, 1]]), 1), "num_nodes must be one whole number"),
    ],
)
def test_bad_graphs_are_one_line(tmp_path: Path, write, message: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path)
    args = ["train", "--data", str(path), "--model", "vgae", "--epochs", "1", "--out", str(tmp_path / "r")]
    code, _, err = vaelab(args)
    assert code == 1 and message in err and err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_node_features_of_the_wrong_length_are_one_line(tmp_path: Path) -> None:
    edges, _ = block_graph(30)
    path = write_graph_npz(tmp_path / "g.npz", edges, 30)
    np.save(tmp_path / "f.npy", np.zeros((29, 3), dtype=np.float32))
    code, _, err = vaelab(
        [
            "train",
            "--data",
            str(path),
            "--set",
            f"data.node_features={tmp_path / 'f.npy'}",
            *ONE_EPOCH,
            str(tmp_path / "r"),
        ]
    )
    assert code == 1 and "29 rows of node features for 30 nodes" in err and not (tmp_path / "r").exists()


@pytest.mark.shared_data
def test_vgae_on_cora_through_the_command(data_dir: Path, tmp_path: Path) -> None:
    """A shortened Cora run (60 steps) through ``vaelab train`` and ``vaelab eval --links``."""
    run = tmp_path / "run"
    code, _, err = vaelab(
        ["train", "--data", "cora", "--data-dir", str(data_dir), "--model", "vgae", "--epochs", "60", *QUIET, str(run)]
    )
    assert code == 0, err
    code, out, err = vaelab(["eval", str(run), "--links", "--json", "--data-dir", str(data_dir)])
    assert code == 0, err
    assert json.loads(out)["roc_auc"] > 0.85
