"""Training checkpoints in one safetensors file: tensors as tensors, everything else as JSON metadata.

Nothing is pickled, so loading a checkpoint cannot run code. Written atomically: a crash leaves the
previous checkpoint intact. Next to it, ``metrics.jsonl`` holds one line per epoch of the run's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch.optim.swa_utils import AveragedModel

from vaelab.atomic import atomic_write, atomic_write_text
from vaelab.data.download import one_line
from vaelab.errors import UserError
from vaelab.training.discriminator import DiscriminatorTraining
from vaelab.training.run_directory import CHECKPOINT_NAME, METRICS_NAME


@dataclass
class TrainingObjects:
    """The objects of a run whose state a checkpoint holds, so that a resumed run continues exactly."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_schedule: torch.optim.lr_scheduler.LRScheduler
    grad_scaler: torch.amp.GradScaler
    generator: torch.Generator  # the order of the batches
    discriminator: DiscriminatorTraining | None  # an adversarial objective's, with its own optimizer
    average: AveragedModel | None = None  # the moving average of the weights (TrainSettings.ema_decay)


@dataclass
class Progress:
    """How far a run has come: epochs and steps done, the best monitored value so far with its epoch and
    weights, the history of epoch records, and whether the run has stopped early; with the settings it
    trains with and the bound of its untrained model (the divergence guard's reference), both None in
    checkpoints written before they were recorded."""

    epoch: int
    step: int
    best_value: float
    best_epoch: int | None
    best_model: dict[str, torch.Tensor] | None
    history: list[dict[str, Any]]
    stopped_early: bool
    settings: dict[str, Any] | None = None
    initial_elbo: float | None = None


def save_training(path: Path, objects: TrainingObjects, progress: Progress) -> None:
    """Write the checkpoint of a run at the end of an epoch, then its ``metrics.jsonl``."""
    state: dict[str, Any] = {
        "model": objects.model.state_dict(),
        "optimizer": objects.optimizer.state_dict(),
        "lr_schedule": objects.lr_schedule.state_dict(),
        "grad_scaler": objects.grad_scaler.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "shuffle": objects.generator.get_state()},
        "epoch": progress.epoch,
        "step": progress.step,
        "best_value": progress.best_value,
        "best_epoch": progress.best_epoch,
        "best_model": progress.best_model,
        "history": progress.history,
        "stopped_early": progress.stopped_early,
        "settings": progress.settings,
        "initial_elbo": progress.initial_elbo,
    }
    if objects.discriminator is not None:
        state["discriminator"] = objects.discriminator.module.state_dict()
        state["discriminator_optimizer"] = objects.discriminator.optimizer.state_dict()
    if objects.average is not None:
        state["average"] = objects.average.state_dict()
    save_checkpoint(path, state)
    lines = "".join(json.dumps(r) + "\n" for r in progress.history)
    atomic_write_text(path.parent / METRICS_NAME, lines)


def restore_training(path: Path | None, objects: TrainingObjects) -> Progress:
    """Load the checkpoint at ``path`` (None for a run without a directory) into ``objects`` and torch's
    random state; return the run's progress."""
    if path is None or not path.exists():
        where = "the run has no directory" if path is None else f"no {CHECKPOINT_NAME} in {path.parent}"
        raise UserError(f"nothing to resume: {where}; start without --resume")
    state = load_checkpoint(path)
    if objects.discriminator is not None and "discriminator" not in state:
        raise UserError(
            f"{path} holds no discriminator: it was written by a run of another objective; "
            "resume with that objective or start a new run"
        )
    try:
        return _restore(state, objects)
    except _RESTORE_ERRORS as error:
        raise UserError(
            f"{path} does not fit this run ({_first_problem(error)}); resume with the config the run started with, "
            "or start a new run without --resume"
        ) from None


# What torch and the lookups below raise for a state written by another model, objective or optimizer, or damaged
_RESTORE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError)


def _restore(state: dict[str, Any], objects: TrainingObjects) -> Progress:
    objects.model.load_state_dict(state["model"])
    _load_optimizer(objects.optimizer, state["optimizer"])
    objects.lr_schedule.load_state_dict(state["lr_schedule"])
    if state.get("grad_scaler"):  # saved by an fp16 run
        objects.grad_scaler.load_state_dict(state["grad_scaler"])
    torch.set_rng_state(state["rng"]["torch"])
    objects.generator.set_state(state["rng"]["shuffle"])
    if objects.discriminator is not None:
        objects.discriminator.module.load_state_dict(state["discriminator"])
        _load_optimizer(objects.discriminator.optimizer, state["discriminator_optimizer"])
    if objects.average is not None:
        objects.average.load_state_dict(state["average"])
    progress = Progress(
        epoch=state["epoch"],
        step=state["step"],
        best_value=state["best_value"],
        best_epoch=state["best_epoch"],
        best_model=state.get("best_model"),
        history=state["history"],
        stopped_early=state["stopped_early"],
        settings=state.get("settings"),
        initial_elbo=state.get("initial_elbo"),
    )
    _check_progress(progress, objects.model)
    return progress


def _check_progress(progress: Progress, model: torch.nn.Module) -> None:
    """ValueError unless the progress has the types the trainer counts with, and best weights fit the model."""
    if not (
        isinstance(progress.epoch, int)
        and isinstance(progress.step, int)
        and isinstance(progress.best_value, int | float)
        and (progress.best_epoch is None or isinstance(progress.best_epoch, int))
        and isinstance(progress.history, list)
        and isinstance(progress.stopped_early, bool)
        and (progress.settings is None or isinstance(progress.settings, dict))
        and (progress.initial_elbo is None or isinstance(progress.initial_elbo, int | float))
    ):
        raise ValueError("its epoch, step, best value, history, settings or initial bound has the wrong type")
    if progress.best_model is not None:
        expected = {name: tensor.shape for name, tensor in model.state_dict().items()}
        best = {name: getattr(tensor, "shape", None) for name, tensor in progress.best_model.items()}
        if best != expected:
            raise ValueError("its best weights do not fit the model")


def _first_problem(error: BaseException) -> str:
    """The first line that says what is wrong (torch's load_state_dict lists every mismatch, one per line)."""
    if isinstance(error, KeyError):
        return f"it has no {error.args[0]!r}" if error.args else "a key is missing"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    first = lines[0] if lines else type(error).__name__
    return first if len(first) <= 200 else first[:200] + "..."


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """JSON turns integer keys (optimizer parameter ids) into strings: turn them back, then load."""
    optimizer.load_state_dict({**saved, "state": {int(k): v for k, v in saved["state"].items()}})


def _split_tensors(tree: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor of a nested dict/list into ``tensors`` under a dotted key; return the rest."""
    if isinstance(tree, torch.Tensor):
        tensors[prefix] = tree.detach().contiguous().cpu().clone()
        return {"__tensor__": prefix}
    if isinstance(tree, dict):
        return {str(k): _split_tensors(v, f"{prefix}.{k}", tensors) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_split_tensors(v, f"{prefix}.{i}", tensors) for i, v in enumerate(tree)]
    return tree


def _join_tensors(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {"__tensor__"}:
            key = tree["__tensor__"]
            if not isinstance(key, str) or key not in tensors:
                raise ValueError(f"it refers to a tensor {key!r} that it does not hold")
            return tensors[key]
        return {k: _join_tensors(v, tensors) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_join_tensors(v, tensors) for v in tree]
    return tree


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a nested dict of tensors and JSON-able values atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split_tensors(state, "s", tensors)
    metadata = {"vaelab.checkpoint": json.dumps(skeleton)}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
        skeleton = json.loads(metadata["vaelab.checkpoint"])
        state = _join_tensors(skeleton, tensors)
        if not isinstance(state, dict):
            raise ValueError(f"it holds a {type(state).__name__}, not a mapping of the run's state")
    except (SafetensorError, OSError, KeyError, ValueError, RecursionError) as error:  # JSONDecodeError: a ValueError
        raise UserError(
            f"{path} is not a readable vaelab checkpoint ({one_line(error)}); start a new run without --resume"
        ) from None
    return state
