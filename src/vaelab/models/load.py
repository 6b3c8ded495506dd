"""``vaelab.load``: rebuild a saved model from its JSON spec and safetensors weights, never unpickling."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch.overrides import TorchFunctionMode

from vaelab.data.download import one_line
from vaelab.errors import UserError, validation_message
from vaelab.models import VAE
from vaelab.models.build import build_model
from vaelab.models.vae import MODEL_FORMAT, MODEL_FORMAT_VERSION

ALLOCATION_FACTOR = 4  # a model built from model.json may hold this many times the bytes of its weights file
ALLOCATION_SLACK = 64 << 20  # plus this much (initialisation temporaries, buffers that are not saved)
_FACTORIES = frozenset({torch.empty, torch.zeros, torch.ones, torch.full, torch.rand, torch.randn})


class _OverBudget(Exception):
    """The spec asks for more bytes than the allocation budget (the first argument)."""


class _AllocationBudget(TorchFunctionMode):
    """While a model is built from a spec, refuse tensors beyond ``budget`` bytes in all, before they are
    allocated: a spec may ask for any size, but a model the weights file can fill is about its size."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget, self.used = budget, 0
        self.seen: set[int] = set()

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in _FACTORIES:  # torch.empty(size) or torch.empty(*size): count it before it exists
            size = args[0] if args and isinstance(args[0], tuple | list | torch.Size) else args
            dtype = kwargs.get("dtype") or torch.get_default_dtype()
            self._spend(math.prod(int(n) for n in size) * dtype.itemsize)
        result = func(*args, **kwargs)
        if isinstance(result, torch.Tensor):  # any other new tensor (not a view, not one in place), once
            storage = result.untyped_storage()
            if storage.data_ptr() not in self.seen:
                self.seen.add(storage.data_ptr())
                if func not in _FACTORIES:
                    self._spend(storage.nbytes())
        return result

    def _spend(self, nbytes: int) -> None:
        self.used += nbytes
        if self.used > self.budget:
            raise _OverBudget(self.used)


def load(directory: str | Path, device: str = "cpu") -> VAE:
    """Load the model saved in ``directory`` (a run directory or a ``model.save`` folder)."""
    directory = Path(directory)
    header_path, weights_path = directory / "model.json", directory / "model.safetensors"
    for path in (header_path, weights_path):
        if not path.is_file():
            raise UserError(f"no saved model in {directory}: {path.name} is missing; pass a run directory")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{header_path} is not valid JSON ({error}); the run directory is damaged") from None
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise UserError(f"{header_path} is not a vaelab model description")
    version = header.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise UserError(f"{header_path}: format_version is {version!r}, not an integer; the run directory is damaged")
    if version > MODEL_FORMAT_VERSION:
        raise UserError(f"{header_path} was written by a newer vaelab; upgrade vaelab to load it")
    budget = ALLOCATION_FACTOR * weights_path.stat().st_size + ALLOCATION_SLACK
    try:
        with _AllocationBudget(budget):
            model = build_model(header["spec"])
    except _OverBudget as error:
        raise UserError(
            f"{header_path} describes a model of more than {error.args[0]:,} bytes, far more than {weights_path.name} "
            "holds; the run directory is damaged"
        ) from None
    except ValidationError as error:
        raise UserError(f"{header_path} has an invalid model spec: {validation_message(error)}") from None
    except UserError as error:  # a part's own check
        raise UserError(f"{header_path} has an invalid model spec: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"{header_path} has an invalid model spec ({one_line(error)})") from None
    try:
        state = load_file(str(weights_path), device=device)
    except (SafetensorError, OSError) as error:
        raise UserError(f"{weights_path} is not a readable safetensors file ({one_line(error)})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = (missing or unexpected or wrong)[0]
        raise UserError(
            f"{weights_path} does not match {header_path.name} (first mismatch: {detail}); "
            "the weights come from another model"
        )
    broken = sorted(
        name for name, tensor in state.items() if tensor.is_floating_point() and not tensor.isfinite().all()
    )
    if broken:
        raise UserError(
            f"{weights_path} holds NaN or infinite weights (first: {broken[0]}): the run diverged before they were "
            "saved; retrain with a lower --lr or --grad-clip"
        )
    model.load_state_dict(state)
    return model.to(device).eval()
