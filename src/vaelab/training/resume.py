"""Which settings a resumed run may change, and how the changes are applied to the restored state.

A checkpoint records the settings its run trained with. Resuming with a different learning rate, length,
budget or device applies the change to the restored optimizer and schedule and records it in the next epoch's
line of ``metrics.jsonl``; any other change (batch size, seed, optimizer, …) would make the run a different
one, so it is refused with one line naming the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from vaelab.errors import UserError

LENGTH = frozenset({"epochs", "max_minutes", "max_steps", "patience"})
"""Settings that decide when a run stops: changing one lets a run that had stopped go on."""
MACHINE = frozenset(
    {"device", "num_workers", "compile", "optimizer_impl", "channels_last", "precision", "matmul_precision"}
)
"""Settings of how the machine computes the run (the restored state moves to the new device)."""
RESUMABLE = LENGTH | MACHINE | {"lr"}
"""Settings a resumed run applies: the learning rate, how long the run goes on, and the machine's."""
PRESENTATION = frozenset({"progress", "log_every"})
"""Settings that change what a run shows, not what it computes: neither compared nor recorded."""


def changed_settings(saved: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> dict[str, list[Any]]:
    """``{name: [saved, current]}`` for each setting that differs; raise for one that may not change."""
    changes = {
        name: [saved[name], value]
        for name, value in current.items()
        if name in saved and name not in PRESENTATION and saved[name] != value
    }
    for name, (before, after) in changes.items():
        if name not in RESUMABLE:
            raise UserError(
                f"--resume cannot change {prefix}{name} ({before!r} in the run, {after!r} now): it would be another "
                f"run; resume without changing it, or start a new run with another --out"
            )
    return changes


def apply_learning_rate(
    optimizer: torch.optim.Optimizer, lr_schedule: torch.optim.lr_scheduler.LRScheduler, before: float, after: float
) -> None:
    """Scale the restored rates by ``after / before``: the schedule keeps its shape around the new base rate."""
    factor = after / before
    for group in optimizer.param_groups:
        group["lr"] *= factor
        if "initial_lr" in group:
            group["initial_lr"] *= factor
    lr_schedule.base_lrs = [rate * factor for rate in lr_schedule.base_lrs]


def apply_total_steps(lr_schedule: torch.optim.lr_scheduler.LRScheduler, total_steps: int) -> None:
    """A cosine schedule decays over the run's new length from where it is now."""
    if isinstance(lr_schedule, torch.optim.lr_scheduler.CosineAnnealingLR):
        lr_schedule.T_max = max(1, total_steps)
