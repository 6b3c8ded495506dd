"""Training checkpoints in one safetensors file: tensors as tensors, everything else as JSON metadata.

Nothing is pickled, so loading a checkpoint cannot run code. Written atomically: a crash leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from vaelab.atomic import atomic_write
from vaelab.errors import UserError

CHECKPOINT_NAME = "checkpoint.safetensors"


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
            return tensors[tree["__tensor__"]]
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
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as error:
        raise UserError(
            f"{path} is not a readable vaelab checkpoint ({error}); start a new run without --resume"
        ) from None
    state: dict[str, Any] = _join_tensors(skeleton, tensors)
    return state


def int_keys(state: dict[str, Any]) -> dict[int, Any]:
    """JSON turns integer keys (optimizer parameter ids) into strings; turn them back."""
    return {int(k): v for k, v in state.items()}
