"""Parts come from registries: a part added from outside the library (here, this test module) trains through
``fit`` and through the command line with no other file touched, and every sensible pairing of the
registered networks, posteriors, priors and likelihoods builds, trains a step, saves and loads."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Laplace
from torch.nn import functional as F

import vaelab
from helpers import run_cli
from vaelab.config.build import OBJECTIVES, build_objective, model_spec
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.batch import Batch, dataset_rows, graph_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import split_edges
from vaelab.data.graph import Graph
from vaelab.data.graph_batch import graph_dataset
from vaelab.data.table_columns import encode_columns, fit_features
from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError
from vaelab.likelihoods import Likelihood
from vaelab.models import VAE, elbo_terms
from vaelab.models.build import (
    LIKELIHOODS,
    NETWORKS,
    PAIRED_PRIORS,
    POSTERIORS,
    PRIORS,
    BuildContext,
    Networks,
    Options,
    Part,
    build_model,
)
from vaelab.nn import MLP
from vaelab.objectives import ELBO, ObjectiveOutput
from vaelab.training import TrainSettings, fit


class ToyLaplaceLikelihood(Likelihood):
    """A likelihood defined outside the library: Laplace(loc, softplus(raw) + min_scale) per element."""

    name = "toy-laplace"
    params_per_element = 2

    def __init__(self, data_shape: tuple[int, ...], min_scale: float) -> None:
        super().__init__(data_shape)
        self.min_scale = min_scale

    def element_distribution(self, eta: torch.Tensor) -> Laplace:
        loc, raw_scale = self.split(eta)
        return Laplace(loc, F.softplus(raw_scale) + self.min_scale, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        return None


class ToyLaplaceOptions(Options):
    min_scale: float = 0.01


class ToyTanhOptions(Options):
    width: int = 8


def toy_networks(options: ToyTanhOptions, context: BuildContext) -> Networks:
    """A network pair defined outside the library: one tanh layer each way."""
    encoder = MLP(context.data_shape, [], (options.width,), final_activation=True, activation=nn.Tanh)
    decoder_in = context.latent_dim + context.condition_dim
    decoder = MLP((decoder_in,), [options.width], context.param_shape, activation=nn.Tanh)
    return Networks(encoder, decoder, options.width)


@pytest.fixture
def toy_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The toy parts' registry entries: one line each, from this module."""
    laplace = Part(ToyLaplaceOptions, lambda o, ctx: ToyLaplaceLikelihood(ctx.data_shape, o.min_scale))
    monkeypatch.setitem(LIKELIHOODS, "toy-laplace", laplace)
    monkeypatch.setitem(NETWORKS, "toy-tanh", Part(ToyTanhOptions, toy_networks))


def table(n: int = 64, d: int = 5, seed: int = 0) -> ArrayDataset:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    x = z @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(n, d))
    return ArrayDataset(x.astype(np.float32), None, None, "toy-table")


def test_a_part_registered_from_outside_trains_through_fit(toy_parts: None, tmp_path: Path) -> None:
    data = table()
    config = ModelConfig.model_validate(
        {"likelihood": "toy-laplace", "network": {"name": "toy-tanh", "width": 6}, "latent_dim": 2}
    )
    torch.manual_seed(0)
    model = build_model(model_spec(config, data))
    assert isinstance(model.likelihood, ToyLaplaceLikelihood) and isinstance(model.encoder.net[1], nn.Tanh)
    assert model.encoder.out_shape == (6,) and model.likelihood.min_scale == 0.01  # its options, and defaults
    before = model.elbo(torch.from_numpy(data.x)).mean()
    result = fit(model, ELBO(), data, None, TrainSettings(epochs=30, batch_size=16, progress=False))
    assert model.elbo(torch.from_numpy(data.x)).mean() > before + 1.0  # it learns
    assert result.history[-1]["train"]["elbo"] > result.history[0]["train"]["elbo"]
    model.save(tmp_path / "saved")
    loaded = vaelab.load(tmp_path / "saved")
    x = torch.from_numpy(data.x[:4])
    assert torch.equal(loaded.embed(x), model.embed(x))


def test_a_part_registered_from_outside_trains_through_the_cli(toy_parts, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "table.npy"
    np.save(path, table().x)
    out = tmp_path / "run"
    args = ["train", "--data", str(path), "--likelihood", "toy-laplace", "--network", "toy-tanh", "--out", str(out)]
    options = ["--latent-dim", "2", "--epochs", "2", "--no-progress", "--no-report"]
    code, _, err = run_cli([*args, *options, "--set", "model.likelihood.min_scale=0.05"], capsys, monkeypatch)
    assert code == 0, err
    loaded = vaelab.load(out)
    assert isinstance(loaded.likelihood, ToyLaplaceLikelihood) and loaded.likelihood.min_scale == 0.05
    code, _, err = run_cli(
        [*args[:-1], str(tmp_path / "other"), *options, "--set", "model.likelihood.df=3"], capsys, monkeypatch
    )
    assert code == 1 and "model.likelihood.df does not apply to the toy-laplace likelihood" in err
    assert not (tmp_path / "other").exists()


def _pairwise_cover(factors: dict[str, list[str]]) -> list[dict[str, str]]:
    """A small set of combinations in which every pair of values of any two factors appears at least once
    (all-pairs coverage), chosen greedily from the full product."""
    names = list(factors)
    uncovered = {
        ((a, va), (b, vb)) for a, b in itertools.combinations(names, 2) for va in factors[a] for vb in factors[b]
    }
    chosen = []
    candidates = [dict(zip(names, values, strict=True)) for values in itertools.product(*factors.values())]
    while uncovered:
        best = max(candidates, key=lambda c: sum(c[a] == va and c[b] == vb for (a, va), (b, vb) in uncovered))
        chosen.append(best)
        uncovered -= {((a, best[a]), (b, best[b])) for a, b in itertools.combinations(names, 2)}
    return chosen


SEQUENCE_PARTS = {"network": ["gru", "conv1d"], "likelihood": ["tokens"]}
"""The parts of token sequences, paired among themselves and with every posterior and prior."""
GRAPH_PARTS = {"network": ["gcn"], "likelihood": ["edges"]}
"""The parts of graphs, paired with every posterior and prior."""
KIND_PARTS = {field: SEQUENCE_PARTS[field] + GRAPH_PARTS[field] for field in SEQUENCE_PARTS}
FACTORS = {
    "network": [name for name in NETWORKS if name not in KIND_PARTS["network"]],
    "posterior": list(POSTERIORS),
    "prior": list(PRIORS),
    "likelihood": [name for name in LIKELIHOODS if name not in KIND_PARTS["likelihood"]],
}
COMBINATIONS = _pairwise_cover(FACTORS)
SEQUENCE_COMBINATIONS = _pairwise_cover({**FACTORS, **SEQUENCE_PARTS})
GRAPH_COMBINATIONS = _pairwise_cover({**FACTORS, **GRAPH_PARTS})


def images_for(likelihood: str, labelled: bool = False) -> ArrayDataset:
    """Data each likelihood accepts: binary images for Bernoulli, a mixed table for the columns likelihood,
    images on a grid of 4 levels otherwise; with two classes of labels when ``labelled``."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 12) if labelled else None
    if likelihood == "columns":
        columns = {"size": rng.normal(size=12), "colour": rng.choice(np.array(["red", "blue"], dtype=object), 12)}
        features = fit_features(columns)
        return ArrayDataset(
            encode_columns(columns, features), y, None, "mixed", 2 if labelled else None, features=features
        )
    levels = 2 if likelihood == "bernoulli" else 4
    x = rng.integers(0, levels, size=(12, 1, 8, 8)).astype(np.uint8)
    return ArrayDataset(x, y, levels, "grid", 2 if labelled else None)


def pairing_refusal(parts: dict[str, str]) -> str | None:
    """A posterior whose codes only one prior describes (``PAIRED_PRIORS``) with another prior, or that prior with
    another posterior; the one-hot posteriors also cannot cut these tests' latent_dim (3 or 4) into groups of
    their default 10 categories (tests/test_discrete_latents.py trains them)."""
    for posterior, (prior, _, _) in PAIRED_PRIORS.items():
        if (parts["posterior"] == posterior) != (parts["prior"] == prior):
            return f"and the {prior} prior go together: use both"
    if parts["posterior"] in ("gumbel-softmax", "joint"):
        return "must be a positive multiple of model.posterior.categories"
    return None


def refusal(parts: dict[str, str]) -> str | None:
    """The error a combination of parts must be refused with, or None when it builds."""
    if parts["likelihood"] == "columns" and parts["network"] == "conv":  # the networks are built first
        return "--network conv needs images"
    if pairing_refusal(parts) is not None:
        return pairing_refusal(parts)
    if parts["prior"] == "state-space":  # per-step latents are for series windows (tests/test_state_space_prior.py)
        return "the state-space prior ties one latent per step"
    if parts["prior"] == "vamp" and (
        parts["posterior"] in ("planar", "iaf", "point") or parts["likelihood"] == "columns"
    ):
        return "VampPrior"
    if parts["prior"] == "conditional-gaussian" and parts["posterior"] == "ladder":
        return "a ladder posterior's top-down prior takes no condition"
    if parts["prior"] == "fitted-mixture" and parts["posterior"] == "ladder":
        return "not a ladder's top layer"
    return None


def trains_saves_and_loads_the_same(config: ModelConfig, data: ArrayDataset, tmp_path: Path) -> None:
    """The model ``config`` describes trains a step on ``data``, saves and loads; the loaded model's log weights
    and samples equal the original's (and are finite)."""
    torch.manual_seed(0)
    model = build_model(model_spec(config, data))
    fit(model, ELBO(), data, None, TrainSettings(epochs=1, batch_size=12, progress=False))
    model.save(tmp_path)
    loaded = vaelab.load(tmp_path)
    batch = dataset_rows(data, np.arange(3), "cpu")
    outputs = []
    for m in (model, loaded):
        torch.manual_seed(1)
        outputs.append((m(batch, num_samples=2).log_weights(), m.sample(2, y=0 if m.is_conditional else None)))
    for a, b in zip(*outputs, strict=True):  # log weights, then samples (token ids for sequences)
        assert torch.isfinite(a).all() and torch.equal(a, b)


@pytest.mark.parametrize("parts", COMBINATIONS, ids=lambda c: "-".join(c.values()))
def test_every_pair_of_registered_parts_builds_trains_saves_and_loads(parts: dict[str, str], tmp_path: Path) -> None:
    conditional = parts["prior"] == "conditional-gaussian"  # p(z|c) needs a condition: a cvae on labels
    data = images_for(parts["likelihood"], labelled=conditional)
    config = ModelConfig(
        preset="cvae" if conditional else "vae",
        latent_dim=3,
        hidden_dims=[8],
        conv_channels=[4],
        conv_hidden=8,
        prior_components=3,
        **parts,
    )
    refused = refusal(parts)
    if refused is not None:
        with pytest.raises(UserError, match=re.escape(refused)):
            build_model(model_spec(config, data))
        return
    trains_saves_and_loads_the_same(config, data, tmp_path)


def sequences() -> ArrayDataset:
    """Twelve token sequences of up to 5 tokens in the stored layout (tokens, <eos>, padding)."""
    rows = [list("CCO"), list("CN"), list("OCCN"), list("C")] * 3
    vocabulary = Vocabulary.build(rows, "chars")
    return ArrayDataset(vocabulary.ids(rows, 5), None, None, "tokens", kind="sequence", vocabulary=vocabulary)


def prior_refusal(parts: dict[str, str], vamp: str) -> str | None:
    """The error an unconditional sequence or graph model must be refused with for its prior (``vamp``: the
    VampPrior's), or None when the prior builds."""
    if pairing_refusal(parts) is not None:
        return pairing_refusal(parts)
    if parts["prior"] == "state-space":
        return "the state-space prior ties one latent per step"
    if parts["prior"] == "vamp":
        return vamp
    if parts["prior"] == "fitted-mixture" and parts["posterior"] == "ladder":
        return "not a ladder's top layer"
    if parts["prior"] == "conditional-gaussian":
        return "takes no condition" if parts["posterior"] == "ladder" else "needs a conditional model"
    return None


@pytest.mark.parametrize("parts", SEQUENCE_COMBINATIONS, ids=lambda c: "-".join(c.values()))
def test_every_pair_of_sequence_parts_builds_trains_saves_and_loads(parts: dict[str, str], tmp_path: Path) -> None:
    data = sequences()
    network = {"name": parts["network"], "embedding_dim": 4, "encoder_hidden": 8, "decoder_hidden": 8}
    config = ModelConfig(latent_dim=3, prior_components=3, **{**parts, "network": network})  # type: ignore[arg-type]
    if prior_refusal(parts, "VampPrior") is not None:
        with pytest.raises(UserError, match=prior_refusal(parts, "VampPrior")):
            build_model(model_spec(config, data))
        return
    trains_saves_and_loads_the_same(config, data, tmp_path)


def graph() -> ArrayDataset:
    """A 30-node ring with chords, featureless (each node its own indicator), as a graph's training split."""
    edges = np.array([[i, (i + 1) % 30] for i in range(30)] + [[i, (i + 7) % 30] for i in range(30)])
    graph = Graph(30, np.unique(np.sort(edges, axis=1), axis=0), None, "ring")
    return graph_dataset(graph, split_edges(graph, seed=0), "train")


@pytest.mark.parametrize("parts", GRAPH_COMBINATIONS, ids=lambda c: "-".join(c.values()))
def test_every_posterior_and_prior_with_the_graph_parts(parts: dict[str, str], tmp_path: Path) -> None:
    data = graph()
    config = ModelConfig(latent_dim=4, prior_components=3, **parts)  # type: ignore[arg-type]
    if prior_refusal(parts, "not graphs") is not None:
        with pytest.raises(UserError, match=prior_refusal(parts, "not graphs")):
            build_model(model_spec(config, data))
        return
    torch.manual_seed(0)
    model = build_model(model_spec(config, data))
    fit(model, ELBO(), data, None, TrainSettings(epochs=2, lr=0.01, progress=False))
    model.save(tmp_path)
    loaded = vaelab.load(tmp_path)
    batch = graph_batch(data, "cpu")
    outputs = []
    for m in (model, loaded):
        torch.manual_seed(1)
        outputs.append(m(batch, num_samples=2).log_weights())
    assert outputs[0].shape == (2, 30) and torch.isfinite(outputs[0]).all() and torch.equal(*outputs)


def test_the_pairs_cover_every_pair_of_entries() -> None:
    for a, b in itertools.combinations(FACTORS, 2):
        seen = {(c[a], c[b]) for c in COMBINATIONS}
        assert seen == set(itertools.product(FACTORS[a], FACTORS[b])), (a, b)
    assert len(COMBINATIONS) < np.prod([len(v) for v in FACTORS.values()])


@dataclass(frozen=True)
class ToyWarmELBO:
    """An objective defined outside the library, with a hyperparameter the config does not declare: the
    ELBO with its KL scaled by ``kl_scale``."""

    kl_scale: float = 1.0
    beta: float = 1.0

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        terms = elbo_terms(model(batch))
        return ObjectiveOutput(-(terms["reconstruction"] - self.beta * self.kl_scale * terms["kl"]).mean(), terms)


def test_an_objective_registered_from_outside_trains_through_the_cli(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(OBJECTIVES, "toy-warm", ToyWarmELBO)
    assert build_objective(ObjectiveConfig.model_validate({"name": "toy-warm", "kl_scale": "0.5"}), "vae") == (
        ToyWarmELBO(kl_scale=0.5)
    )
    path = tmp_path / "table.npy"
    np.save(path, table().x)
    args = ["train", "--data", str(path), "--latent-dim", "2", "--epochs", "2", "--no-progress", "--no-report"]
    code, _, err = run_cli(
        [*args, "--out", str(tmp_path / "run"), "--set", "objective.name=toy-warm", "--set", "objective.kl_scale=0.3"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    code, _, err = run_cli(
        [*args, "--out", str(tmp_path / "bad"), "--set", "objective.name=toy-warm", "--set", "objective.kl_scale=x"],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "bad config value for objective.kl_scale" in err and not (tmp_path / "bad").exists()
    code, _, err = run_cli([*args, "--out", str(tmp_path / "typo"), "--set", "objective.gama=3"], capsys, monkeypatch)
    assert code == 1 and "objective.gama does not apply to the elbo objective" in err
