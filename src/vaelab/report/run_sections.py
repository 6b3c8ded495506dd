"""Report sections read from the run's files: the training curves and the metrics tables."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from vaelab.report.html import Image, Note, Section, Table
from vaelab.report.run_files import hyperparameter_keys, monitored_split, term_keys

SPLIT_ORDER = ("train", "valid", "test")
LIST_SHOWN = 6  # list values in the metrics table show this many entries
NOT_IN_TABLE = {"split", "warnings"}  # the split is the column; warnings are shown as notes
STDERR = "_stderr"  # `<key>_stderr` is shown after `<key>` as "value ± stderr"


def format_value(value: Any) -> str:
    """A metric as table text: numbers with five significant digits, lists and mappings shortened."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, list):
        shown = ", ".join(format_value(v) for v in value[:LIST_SHOWN])
        return f"[{shown}, …] ({len(value)} values)" if len(value) > LIST_SHOWN else f"[{shown}]"
    if isinstance(value, dict):
        text = json.dumps(value, separators=(", ", ": "))
        return text if len(text) <= 80 else text[:79] + "…"
    return str(value)


def _with_stderr(result: dict[str, Any], key: str) -> str:
    """``value ± standard error`` when the result has ``<key>_stderr``, else the value alone."""
    text, stderr = format_value(result.get(key)), result.get(key + STDERR)
    return text if not isinstance(stderr, float) else f"{text} ± {stderr:.2g}"


def training_section(history: list[dict[str, Any]], best_epoch: int | None, objective: str) -> Section:
    lead = (
        "Per-epoch means over the training set (with the objective's hyperparameters at that step) and over "
        f"the validation set. Objective: {objective}. The dashed line marks the best validation epoch, whose "
        "weights the run saved."
    )
    if not history:
        return Section("training", "Training curves", lead, [Note("`metrics.jsonl` is missing or empty.")])
    from vaelab.report import plots  # matplotlib: only when a plot is drawn

    blocks: list[Any] = [Image(plots.training_curves(history, best_epoch), "training curves")]
    if not hyperparameter_keys(history):
        blocks.append(Note(f"No hyperparameter was scheduled in this run ({objective} throughout)."))
    return Section("training", "Training curves", lead, blocks)


def _eval_table(evals: dict[str, dict[str, Any]]) -> Table:
    splits = sorted(evals, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else len(SPLIT_ORDER), s))
    keys: list[str] = []
    for split in splits:
        keys += [k for k in evals[split] if k not in NOT_IN_TABLE and k not in keys]
    keys = [k for k in keys if not (k.endswith(STDERR) and k.removesuffix(STDERR) in keys)]
    rows = [[key, *(_with_stderr(evals[s], key) for s in splits)] for key in keys]
    return Table(
        ["metric", *splits],
        rows,
        "From the `eval-<split>.json` files written by `vaelab eval`; likelihoods are per-example means in nats "
        "(± their standard errors).",
    )


def _log_table(history: list[dict[str, Any]], best_epoch: int | None) -> Table:
    last = history[-1]
    best = next((r for r in history if r.get("epoch") == best_epoch), last)
    records = [best] if best is last else [best, last]
    columns = [
        (f"{split}, epoch {r['epoch']}" + (" (best)" if r is best else ""), r[split])
        for r in records
        for split in ("train", "valid")
        if r.get(split)
    ]
    keys = term_keys(history)
    return Table(
        ["term", *(name for name, _ in columns)],
        [[key, *(format_value(terms.get(key)) for _, terms in columns)] for key in keys],
        "From `metrics.jsonl`: the best epoch and the last epoch (training terms use the hyperparameters of the "
        "time; `elbo` is always the β = 1 bound).",
    )


def metrics_section(evals: dict[str, dict[str, Any]], history: list[dict[str, Any]], best_epoch: int | None) -> Section:
    blocks: list[Any] = [
        Note(f"{split}: {warning}")
        for split, result in evals.items()
        for warning in result.get("warnings") or []
        if isinstance(warning, str)
    ]
    if evals:
        blocks.append(_eval_table(evals))
    else:
        blocks.append(
            Note(
                "No `eval-<split>.json` yet: run `vaelab eval RUN_DIR --split test` and then `vaelab report RUN_DIR` "
                "to add the importance-sampled log-likelihood and the other evaluation figures."
            )
        )
    if history:
        blocks.append(_log_table(history, best_epoch))
    lead = "Evaluation figures of the saved model and the training log."
    return Section("metrics", "Metrics", lead, blocks)


def final_elbo(history: list[dict[str, Any]]) -> tuple[str, str]:
    """The header card for the last epoch's ELBO: validation when the run had a validation split."""
    if not history:
        return "final ELBO", "—"
    last = history[-1]
    split = "validation" if last.get("valid") else "training"
    value = monitored_split(last).get("elbo")
    return f"final {split} ELBO", "—" if value is None else f"{value:.2f} nats"


def kl_section(kl: Sequence[float] | None, source: str) -> Section:
    lead = (
        "Mean KL(q(z_d|x) ‖ p(z_d)) of each latent dimension; their sum is the KL of the ELBO. Dimensions near "
        "zero are inactive: their posterior equals the prior (posterior collapse)."
    )
    if kl is None:
        note = Note(
            "The posterior or the prior does not factorise over dimensions, so the KL has no per-dimension split."
        )
        return Section("kl", "KL per dimension", lead, [note])
    from vaelab.report import plots  # matplotlib: only when a plot is drawn

    return Section("kl", "KL per dimension", lead, [Image(plots.kl_bars(np.asarray(kl)), "KL per dimension", source)])
