"""Run directory -> one self-contained HTML report (``vaelab report``, and the end of ``vaelab train``).

The report reads the run's files (config, metrics log, eval results) and the figures drawn from the model
(``vaelab.report.figures``). What it draws is kept in ``report-memo.json`` (``vaelab.report.memo``) with the
digest of the files it came from, so a report of an unchanged model after ``vaelab eval`` redraws nothing but
what the eval changed, and does not load torch or the model at all.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import vaelab
from vaelab.atomic import atomic_write_text
from vaelab.config.files import read_run_config
from vaelab.config.schema import RunConfig
from vaelab.errors import UserError
from vaelab.report.figure_set import ModelFigures
from vaelab.report.html import Page, Section, render
from vaelab.report.memo import ReportMemo, file_digest, sections_from_json, sections_to_json
from vaelab.report.molecule_table import molecule_metrics_section
from vaelab.report.run_files import best_epoch, read_evals, read_history
from vaelab.report.run_sections import final_elbo, kl_section, metrics_section, training_section
from vaelab.training.run_directory import CONFIG_NAME, METRICS_NAME

if TYPE_CHECKING:
    from vaelab.data.dataset import ArrayDataset
    from vaelab.models import VAE

REPORT_NAME = "report.html"
MAX_EXAMPLES = 2000
MODEL_FILES = ("model.safetensors", "model.json", CONFIG_NAME, "edge_split.npz")
"""The run files the model's figures are drawn from: a change to any of them redraws them."""
UNREADABLE = (KeyError, IndexError, TypeError, ValueError, AttributeError)
"""What reading a memo entry of an unexpected shape raises (base64's errors are ValueErrors)."""


def describe_objective(config: RunConfig) -> str:
    """The objective and its scalar hyperparameters as one phrase, e.g. ``ELBO (β = 4, free_bits = 0)``."""
    import dataclasses

    from vaelab.config.build import build_objective

    objective = build_objective(config.objective, config.model.preset)
    parts = []
    for field in dataclasses.fields(objective):  # type: ignore[arg-type]
        value = getattr(objective, field.name)
        if isinstance(value, bool | int | float | str):  # not networks (a discriminator) or None
            name = "β" if field.name == "beta" else field.name
            parts.append(f"{name} = {value:g}" if isinstance(value, float) else f"{name} = {value}")
    return f"{type(objective).__name__} ({', '.join(parts)})"


def report_kl(evals: dict[str, dict[str, Any]], figures: ModelFigures) -> tuple[list[float] | None, str]:
    """KL per dimension from an eval file when one has it, else as computed on the report's examples."""
    for name, result in sorted(evals.items(), key=lambda item: item[0] != figures.split):
        values = result.get("kl_per_dim")
        if isinstance(values, list) and len(values) == figures.latent_dim:
            return [float(v) for v in values], f"From eval-{name}.json."
    return figures.kl_per_dim, figures.kl_source


def _figures(
    run_dir: Path, config: RunConfig, model: VAE | None, max_examples: int, seed: int, memo: ReportMemo, redraw: bool
) -> ModelFigures:
    """The model's figures: from the memo while the model files are unchanged, else drawn (loading the model
    unless one is given) and kept."""
    key = file_digest(run_dir, MODEL_FILES, {"max_examples": max_examples, "seed": seed})
    stored = None if model is not None or redraw else memo.get("figures", key)
    if stored is not None:
        with contextlib.suppress(*UNREADABLE):  # an entry that does not read back is drawn again
            return ModelFigures.from_json(stored)
    from vaelab.models.load import load
    from vaelab.report.figures import model_figures

    figures = model_figures(run_dir, config, load(run_dir) if model is None else model, max_examples, seed)
    memo.put("figures", key, figures.to_json())
    return figures


def _memo_section(memo: ReportMemo, name: str, key: str, draw: Any, redraw: bool) -> Section:
    """A section drawn by ``draw()``, or kept from the memo while ``key`` is unchanged."""
    stored = None if redraw else memo.get(name, key)
    if stored is not None:
        with contextlib.suppress(*UNREADABLE):  # an entry that does not read back is drawn again
            return sections_from_json(stored)[0]
    section: Section = draw()
    memo.put(name, key, sections_to_json([section]))
    return section


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    model: VAE | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int = 0,
    redraw: bool = False,
) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``) and return its path.

    ``model`` is the model just trained (``vaelab train`` passes it): its figures are drawn afresh. Without it,
    figures kept from an earlier report of the same saved model are reused unless ``redraw``.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"no such run directory: {run_dir}")
    if max_examples < 1:
        raise UserError("max_examples (--max-examples) must be at least 1")
    config = read_run_config(run_dir)
    history, evals = read_history(run_dir), read_evals(run_dir)
    best = best_epoch(history, config.train.monitor or "elbo")
    memo = ReportMemo(run_dir)
    figures = _figures(run_dir, config, model, max_examples, seed, memo, redraw)
    training = _memo_section(
        memo,
        "training",
        file_digest(run_dir, (METRICS_NAME, CONFIG_NAME), {"best": best}),
        lambda: training_section(history, best, describe_objective(config)),
        redraw,
    )
    sections = [training, metrics_section(evals, history, best)]
    molecules = molecule_metrics_section(evals)
    sections += [molecules] if molecules is not None else []
    sections += figures.before_kl
    if figures.has_kl_section:
        kl, source = report_kl(evals, figures)
        key = file_digest(run_dir, (), {"kl": kl, "source": source})
        sections.append(_memo_section(memo, "kl", key, lambda: kl_section(kl, source), redraw))
    sections += figures.after_kl
    memo.save()
    page = Page(
        title=f"vaelab report · {run_dir.resolve().name}",
        subtitle=str(run_dir.resolve()),
        summary=[
            ("dataset", Path(config.data.name).name),
            ("model", config.model.preset),
            *figures.cards,
            ("epochs", str(len(history))),
            ("best epoch", "—" if best is None else str(best)),
            final_elbo(history),
        ],
        sections=sections,
        footer=f"Written by vaelab {vaelab.__version__} on {time.strftime('%Y-%m-%d %H:%M')}. {figures.used} "
        f"Re-create it with `vaelab report {run_dir}`.",
    )
    out = run_dir / REPORT_NAME if out is None else Path(out)
    atomic_write_text(out, render(page))
    return out


def write_pictures_and_report(model: VAE, data: ArrayDataset, run_dir: Path) -> list[Path]:
    """What ``vaelab train`` writes at the end of a run: the pictures in ``images/`` and ``report.html``."""
    from vaelab.report.pictures import write_pictures

    return [*write_pictures(model, data, run_dir / "images"), write_report(run_dir, model=model)]
