"""Shared argument handling for commands that act on a saved run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from vaelab.config.files import CONFIG_NAME, read_run_config
from vaelab.config.graphs import graph_options, run_graph_split
from vaelab.config.schema import DataConfig
from vaelab.config.sequences import sequence_options
from vaelab.data.batch import dataset_rows
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.data.schema import feature_from_dict
from vaelab.data.table_columns import recode_columns
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.load import load
from vaelab.nn.sequence_decoding import DECODING_METHODS, TokenDecoding

GRAPH_COMMANDS = "eval --links, encode, sample and report"


def token_decoding(method: str, beam_width: int, smiles_syntax: bool) -> TokenDecoding:
    """The ``--decoding``, ``--beam-width`` and ``--smiles-syntax`` options, checked with one line each."""
    if method not in DECODING_METHODS:
        raise UserError(f"unknown --decoding {method!r}; use one of: {', '.join(DECODING_METHODS)}")
    if beam_width < 1:
        raise UserError("--beam-width must be at least 1")
    return TokenDecoding(method, beam_width, smiles_syntax)


def load_run(run_dir: Path, device: str = "cpu", not_for_graphs: str | None = None) -> VAE:
    """The run's model; ``not_for_graphs`` names a command that refuses graph models (it acts on single examples)."""
    if not run_dir.is_dir():
        raise UserError(f"no such run directory: {run_dir}")
    model = load(run_dir, device=device)
    if not_for_graphs is not None and model.data_kind == "graph":
        raise UserError(
            f"vaelab {not_for_graphs} acts on single examples, not graphs; a graph model takes {GRAPH_COMMANDS}"
        )
    return model


def class_index(model: VAE, label: str | None) -> int | None:
    """``--label``: a class of a class-conditional model by its name (a text label column's value) or its index
    0..K-1; None when no label is given."""
    if label is None:
        return None
    num_classes = model.num_classes
    if not num_classes:
        raise UserError("--label needs a class-conditional model (trained with --model cvae or --model m2)")
    names = model.spec.get("class_names") or []
    if label in names:
        return int(names.index(label))
    index = int(label) if label.strip().lstrip("-").isdigit() else -1
    if not 0 <= index < num_classes:
        classes = ", ".join(names) if names else f"0..{num_classes - 1}"
        raise UserError(f"--label {label} is not a class of this model: use one of {classes}")
    return index


def run_data(
    run_dir: Path,
    model: VAE,
    data: str | None,
    split: str,
    data_dir: str | None = None,
    labels: str | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> ArrayDataset:
    """The dataset to act on: ``--data`` (its kind detected) or the run's own (with the kind the run
    stated), checked against the model; ``limit`` takes a seeded random subset (never the first rows,
    which may be sorted by class)."""
    kind, config = None, DataConfig()
    if data is None:
        if not (run_dir / CONFIG_NAME).is_file():
            raise UserError(f"{run_dir} has no {CONFIG_NAME}; pass --data")
        config = read_run_config(run_dir).data
        data, data_dir, labels, kind = config.name, data_dir or config.data_dir, labels or config.labels, config.kind
        if model.vocabulary is not None:  # the run's own held-out splits map unseen tokens, as in training
            config = config.model_copy(update={"unknown": config.unknown or "map"})
    if model.data_kind == "graph" and data == config.name:  # the run's own graph, under the edge split it stored
        dataset = run_graph_split(run_dir, config.model_copy(update={"data_dir": data_dir}), split)
    else:
        dataset = load_dataset(
            data, split, data_dir, labels, kind, sequence_options(config, model), graph_options(config)
        )
    if limit is not None:
        if limit < 1:
            raise UserError("--limit must be at least 1")
        if limit < len(dataset):
            index = np.sort(np.random.default_rng(seed).choice(len(dataset), size=limit, replace=False))
            dataset = dataset.subset(index)
    if model.spec.get("columns") is not None and dataset.features is not None:
        dataset = _in_model_columns(model, dataset)
    model.check_dataset(dataset)
    return dataset


def _in_model_columns(model: VAE, dataset: ArrayDataset) -> ArrayDataset:
    """A table read with its own scaling and categories, moved onto those the model was fitted with."""
    assert dataset.features is not None
    fitted = tuple(feature_from_dict(f) for f in model.spec["columns"])
    if dataset.features == fitted:
        return dataset
    x = recode_columns(np.asarray(dataset.x), dataset.features, fitted)
    return replace(dataset, x=x, features=fitted)


def model_inputs(model: VAE, dataset: ArrayDataset) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every row of ``dataset`` in model space, with the condition of a conditional model (else None)."""
    batch = dataset_rows(dataset, np.arange(len(dataset)), "cpu")
    return batch.x, batch.y if model.is_conditional else None
