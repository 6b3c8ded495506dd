"""Run directory -> one self-contained HTML report (``vaelab report``, and the end of ``vaelab train``).

The report reads the run's files (config, metrics log, eval results), loads the saved model, and draws
everything that needs the model on a seeded random subset of at most ``max_examples`` examples of the
run's validation split (test, then train, when there is none), so it stays fast and memory-bounded.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import vaelab
from vaelab.atomic import atomic_write_text
from vaelab.config.build import build_objective
from vaelab.config.files import read_run_config
from vaelab.config.graphs import run_graph_split
from vaelab.config.schema import RunConfig
from vaelab.config.sequences import sequence_options
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.models.load import load
from vaelab.report.analysis import LatentAnalysis, analyse
from vaelab.report.graph_sections import graph_sections
from vaelab.report.html import Page, Section, render
from vaelab.report.model_sections import (
    elbo_section,
    is_image_model,
    kl_section,
    latent_section,
    picture_sections,
)
from vaelab.report.pictures import write_pictures
from vaelab.report.run_files import best_epoch, read_evals, read_history
from vaelab.report.run_sections import final_elbo, metrics_section, training_section
from vaelab.report.sequence_sections import sequence_sections
from vaelab.report.traversals import traversal_section

REPORT_NAME = "report.html"
MAX_EXAMPLES = 2000
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


def describe_objective(config: RunConfig) -> str:
    """The objective and its scalar hyperparameters as one phrase, e.g. ``ELBO (β = 4, free_bits = 0)``."""
    objective = build_objective(config.objective, config.model.preset)
    parts = []
    for field in dataclasses.fields(objective):  # type: ignore[arg-type]
        value = getattr(objective, field.name)
        if isinstance(value, bool | int | float | str):  # not networks (a discriminator) or None
            name = "β" if field.name == "beta" else field.name
            parts.append(f"{name} = {value:g}" if isinstance(value, float) else f"{name} = {value}")
    return f"{type(objective).__name__} ({', '.join(parts)})"


def report_kl(
    evals: dict[str, dict[str, Any]], analysis: LatentAnalysis | None, latent_dim: int, split: str
) -> tuple[np.ndarray | None, str]:
    """KL per dimension from an eval file when one has it, else as computed on the report's examples."""
    for name, result in sorted(evals.items(), key=lambda item: item[0] != split):
        values = result.get("kl_per_dim")
        if isinstance(values, list) and len(values) == latent_dim:
            return np.asarray(values, dtype=np.float64), f"From eval-{name}.json."
    if analysis is None or analysis.kl_per_dim is None:
        return None, ""
    return analysis.kl_per_dim, f"Computed on {len(analysis.codes)} examples of the {split} split."


def _summary(config: RunConfig, model: VAE, history: list[dict[str, Any]], best: int | None) -> list[tuple[str, str]]:
    return [
        ("dataset", Path(config.data.name).name),
        ("model", config.model.preset),
        ("likelihood", str(model.spec.get("model", {}).get("likelihood", "—"))),
        ("latent dim", str(model.latent_dim)),
        ("parameters", f"{sum(p.numel() for p in model.parameters()):,}"),
        ("epochs", str(len(history))),
        ("best epoch", "—" if best is None else str(best)),
        final_elbo(history),
    ]


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    model: VAE | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int = 0,
) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``) and return its path.

    ``model`` skips loading the saved weights (``vaelab train`` passes the model it just trained).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"no such run directory: {run_dir}")
    if max_examples < 1:
        raise UserError("max_examples (--max-examples) must be at least 1")
    config = read_run_config(run_dir)
    history, evals = read_history(run_dir), read_evals(run_dir)
    best = best_epoch(history, config.train.monitor or "elbo")
    model = load(run_dir) if model is None else model.eval()
    if model.data_kind == "graph":
        splits = {split: run_graph_split(run_dir, config.data, split) for split in ("valid", "test")}
        sections = [
            training_section(history, best, describe_objective(config)),
            metrics_section(evals, history, best),
            *graph_sections(model, splits, config.data.name),
        ]
        return _write_page(
            run_dir,
            out,
            config,
            model,
            history,
            best,
            sections,
            "Figures from the model use the held-out edges of the edge split the run stored.",
        )
    data, split, problem = report_data(config, model, max_examples, seed)
    device = model_device(model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        analysis = None if data is None else analyse(model, data)
        kl, kl_source = report_kl(evals, analysis, model.latent_dim, split)
        sections = [
            training_section(history, best, describe_objective(config)),
            metrics_section(evals, history, best),
            *(
                sequence_sections(model, data, problem, evals)
                if model.vocabulary is not None
                else picture_sections(model, data, problem)
            ),
            latent_section(model, analysis, data),
            kl_section(kl, kl_source),
            *([traversal_section(model, data, kl)] if is_image_model(model) else []),  # else noted in "Pictures"
            elbo_section(analysis, split),
        ]
    used = (
        f"Figures from the model use {len(data)} examples of the {split} split (seed {seed})."
        if data is not None
        else f"The run's data could not be loaded ({problem}); sections that need them are left out."
    )
    return _write_page(run_dir, out, config, model, history, best, sections, used)


def _write_page(
    run_dir: Path,
    out: str | Path | None,
    config: RunConfig,
    model: VAE,
    history: list[dict[str, Any]],
    best: int | None,
    sections: list[Section],
    used: str,
) -> Path:
    page = Page(
        title=f"vaelab report · {run_dir.resolve().name}",
        subtitle=str(run_dir.resolve()),
        summary=_summary(config, model, history, best),
        sections=sections,
        footer=f"Written by vaelab {vaelab.__version__} on {time.strftime('%Y-%m-%d %H:%M')}. {used} "
        f"Re-create it with `vaelab report {run_dir}`.",
    )
    out = run_dir / REPORT_NAME if out is None else Path(out)
    atomic_write_text(out, render(page))
    return out


def write_pictures_and_report(model: VAE, data: ArrayDataset, run_dir: Path) -> list[Path]:
    """What ``vaelab train`` writes at the end of a run: the pictures in ``images/`` and ``report.html``."""
    return [*write_pictures(model, data, run_dir / "images"), write_report(run_dir, model=model)]
