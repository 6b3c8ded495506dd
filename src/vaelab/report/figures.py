"""The report's figures that need the model: drawn from the saved (or just trained) model on a seeded random
subset of at most ``max_examples`` examples of the run's validation split (test, then train, when there is
none), so they stay fast and memory-bounded; for a graph, on the held-out edges of the run's edge split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaelab.config.graphs import run_graph_split
from vaelab.config.schema import RunConfig
from vaelab.config.sequences import sequence_options
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.report.analogies import analogy_sections
from vaelab.report.analysis import analyse
from vaelab.report.figure_set import ModelFigures
from vaelab.report.graph_sections import graph_sections
from vaelab.report.model_sections import elbo_section, is_image_model, latent_section, picture_sections
from vaelab.report.sequence_sections import sequence_sections
from vaelab.report.traversals import traversal_section

SPLITS = ("valid", "test", "train")  # the first non-empty one is shown


def report_data(config: RunConfig, model: VAE, max_examples: int, seed: int) -> tuple[ArrayDataset | None, str, str]:
    """(data, split, problem): a seeded subset of the first non-empty split, or None and why not."""
    split = SPLITS[0]
    try:
        for split in SPLITS:
            options = sequence_options(config.data, model)
            data = load_dataset(
                config.data.name, split, config.data.data_dir, config.data.labels, config.data.kind, options
            )
            if len(data):
                break
        if len(data) > max_examples:
            index = np.sort(np.random.default_rng(seed).choice(len(data), size=max_examples, replace=False))
            data = data.subset(index)
        model.check_dataset(data)
    except UserError as error:
        return None, split, str(error)
    return (data, split, "") if len(data) else (None, split, "the dataset has no examples")


def model_cards(model: VAE) -> list[tuple[str, str]]:
    return [
        ("likelihood", str(model.spec.get("model", {}).get("likelihood", {}).get("name", "—"))),
        ("latent dim", str(model.latent_dim)),
        ("parameters", f"{sum(p.numel() for p in model.parameters()):,}"),
    ]


def model_figures(run_dir: Path, config: RunConfig, model: VAE, max_examples: int, seed: int) -> ModelFigures:
    """Everything the report draws from ``model``, with torch's random state seeded by ``seed`` and restored."""
    model = model.eval()
    if model.data_kind == "graph":
        splits = {split: run_graph_split(run_dir, config.data, split) for split in ("valid", "test")}
        used = "Figures from the model use the held-out edges of the edge split the run stored."
        sections = graph_sections(model, splits, config.data.name)
        cards = model_cards(model)
        return ModelFigures([], sections, None, "", "valid", used, cards, model.latent_dim, has_kl_section=False)
    data, split, problem = report_data(config, model, max_examples, seed)
    device = model_device(model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        analysis = None if data is None else analyse(model, data)
        kl = None if analysis is None or analysis.kl_per_dim is None else analysis.kl_per_dim
        before = [
            *(
                sequence_sections(model, data, problem)
                if model.vocabulary is not None
                else picture_sections(model, data, problem)
            ),
            latent_section(model, analysis, data),
        ]
        traversal = [traversal_section(model, data, kl)] if is_image_model(model) else []  # else noted in "Pictures"
        after = [*traversal, *analogy_sections(model, data), elbo_section(analysis, split)]
    used = (
        f"Figures from the model use {len(data)} examples of the {split} split (seed {seed})."
        if data is not None
        else f"The run's data could not be loaded ({problem}); sections that need them are left out."
    )
    source = "" if analysis is None else f"Computed on {len(analysis.codes)} examples of the {split} split."
    kl_list = None if kl is None else [float(v) for v in kl]
    return ModelFigures(before, after, kl_list, source, split, used, model_cards(model), model.latent_dim)
