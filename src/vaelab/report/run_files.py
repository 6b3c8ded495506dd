"""What a run directory records, read for the report: the metrics log and the ``eval-<split>.json`` files."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaelab.errors import UserError
from vaelab.training.monitor import monitored_value
from vaelab.training.run_directory import METRICS_NAME

EVAL_PREFIX = "eval-"
STANDARD_TERMS = ("loss", "elbo", "reconstruction", "kl")
NOT_HYPERPARAMETERS = {"epoch", "step", "train", "valid"}


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """The per-epoch records of ``metrics.jsonl`` (an empty list when the run has none yet)."""
    path = run_dir / METRICS_NAME
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise UserError(f"{path} line {number} is not valid JSON; the run directory is damaged") from None
    return records


def read_evals(run_dir: Path) -> dict[str, dict[str, Any]]:
    """``{split: result}`` from every ``eval-<split>.json`` written by ``vaelab eval``, sorted by split."""
    evals = {}
    for path in sorted(run_dir.glob(f"{EVAL_PREFIX}*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise UserError(f"{path} is not valid JSON; delete it or run `vaelab eval` again") from None
        if isinstance(content, dict):
            evals[path.stem.removeprefix(EVAL_PREFIX)] = content
    return evals


def monitored_split(record: dict[str, Any]) -> dict[str, float]:
    """The terms the trainer monitors: validation when the run had a validation split, else training."""
    terms: dict[str, float] = record.get("valid") or record.get("train") or {}
    return terms


def best_epoch(history: list[dict[str, Any]], monitor: str = "elbo") -> int | None:
    """The epoch whose weights the run saved: the first with the best monitored term (as in ``fit``)."""
    best, best_value = None, -math.inf
    for record in history:
        value = monitored_value(monitored_split(record), monitor)
        if value > best_value:
            best, best_value = record.get("epoch"), value
    return best


def hyperparameter_keys(history: Sequence[dict[str, Any]]) -> list[str]:
    """Scheduled hyperparameters recorded per epoch (β, capacity, …; the learning rate only when it
    changes); timings (keys ending in ``time_s``) are not hyperparameters."""
    keys: list[str] = []
    for record in history:
        for key, value in record.items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and key not in NOT_HYPERPARAMETERS and not key.endswith("time_s") and key not in keys:
                keys.append(key)
    if "lr" in keys and len({record.get("lr") for record in history}) == 1:
        keys.remove("lr")
    return keys


def term_keys(history: Sequence[dict[str, Any]]) -> list[str]:
    """The per-example terms logged for training, the standard four first."""
    seen = {key for record in history for key in record.get("train", {})}
    return [k for k in STANDARD_TERMS if k in seen] + sorted(seen - set(STANDARD_TERMS))
