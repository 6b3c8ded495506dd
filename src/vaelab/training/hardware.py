"""How a training step uses the hardware: optimizer implementation, torch.compile, channels-last memory
format for conv nets, and mixed precision. Each option is measured by ``bench/speed/run.py --parts
options`` and the defaults follow those measurements (bench/speed/results.md):

- ``optimizer_impl``: ``"foreach"`` (multi-tensor) or ``"fused"`` (one kernel per step); ``"auto"`` takes
  fused Adam on CUDA, where PyTorch recommends it, and ``CPU_OPTIMIZER`` on CPU;
- ``compile``: ``nn.Module.compile`` of the encoder and decoder networks in place (state-dict keys do not
  change, so checkpoints and saved models are the same with or without it); off by default;
- ``channels_last``: NHWC memory format for the weights and image batches of conv nets; on by default
  (faster for the conv VAE on CPU, no effect on MLPs);
- ``precision``: ``"fp32"``, ``"bf16"`` or ``"fp16"`` autocast around the forward pass and loss; fp16
  adds a ``GradScaler`` so small gradients do not underflow (Micikevicius et al. 2018). The networks'
  outputs are cast back to float32 before any distribution sees them (``VAE.encode`` / ``VAE.decode``),
  so log-densities and KL terms are always summed in float32;
- ``matmul_precision``: ``"highest"`` (float32 products), ``"high"`` or ``"medium"``, torch's
  ``set_float32_matmul_precision`` while ``fit`` runs (``float32_matmul_precision``);
- ``flush_subnormals``: treat float32 values below 1.2e-38 as zero (x86 FTZ/DAZ) for a whole run
  (``subnormals_flushed``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from vaelab.errors import UserError

CPU_OPTIMIZER = "fused"  # faster than foreach for MLP and conv VAEs: bench/speed/results.md, hardware options
OPTIMIZER_IMPLS = ("auto", "foreach", "fused")
CHANNELS_LAST_CHOICES = ("on", "off")
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
MATMUL_PRECISIONS = ("highest", "high", "medium")


def _check_choice(name: str, value: str, choices: tuple[str, ...] | list[str]) -> None:
    if value not in choices:
        raise UserError(f"unknown {name} {value!r}; use one of: {', '.join(choices)}")


def optimizer_implementation(choice: str, device: torch.device) -> dict[str, bool]:
    """Keyword arguments for torch.optim.Adam/AdamW: ``{"fused": True}`` or ``{"foreach": True}``."""
    _check_choice("optimizer_impl", choice, OPTIMIZER_IMPLS)
    if choice == "auto":
        choice = "fused" if device.type == "cuda" else CPU_OPTIMIZER
    return {choice: True}


def uses_channels_last(choice: str, model: nn.Module) -> bool:
    """Whether to train in NHWC layout: asked for, and the model has conv layers (4-D weights) to use it;
    an MLP reading image batches would only pay for a copy of each batch."""
    _check_choice("channels_last", choice, CHANNELS_LAST_CHOICES)
    return choice == "on" and any(p.dim() == 4 for p in model.parameters())


def prepare_networks(model: nn.Module, compile_networks: bool, channels_last: bool) -> None:
    """Channels-last weights for conv layers, then ``compile`` of the encoder and decoder, both in place."""
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    if compile_networks:
        for name in ("encoder", "decoder"):
            network = getattr(model, name, None)
            if isinstance(network, nn.Module):
                network.compile()


def to_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """Image batches (B, C, H, W) in NHWC layout when the conv nets use it; anything else unchanged."""
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


@contextlib.contextmanager
def float32_matmul_precision(name: str) -> Iterator[None]:
    """Let float32 matrix products use a faster internal precision while the block runs, then restore torch's.

    ``"highest"``: float32 throughout. ``"high"``: TF32 on NVIDIA GPUs that have it. ``"medium"``: also bfloat16
    inputs with float32 accumulation where the hardware multiplies bfloat16 fast (AMX on recent Intel CPUs, GPUs
    with bf16 tensor cores); a product then carries about 3 significant digits of each input instead of 7, as
    in bf16 mixed-precision training, while weights, gradients and the loss stay float32. Elsewhere each setting
    computes in float32 (PyTorch, ``torch.set_float32_matmul_precision``).
    """
    _check_choice("matmul_precision", name, MATMUL_PRECISIONS)
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(name)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def flushes_subnormals() -> bool:
    """Whether this thread treats subnormal floats as zero: a float32 subnormal times one is then zero."""
    return bool((torch.tensor([1e-40]) * 1.0).item() == 0.0)


@contextlib.contextmanager
def subnormals_flushed(on: bool = True) -> Iterator[None]:
    """Treat subnormal floats (float32 below 1.2e-38) as zero while the block runs, then restore this thread's mode.

    Where a weight's gradient is zero (a unit that ReLU switched off for the whole batch), Adam's first moment
    decays by beta_1 each step and passes through the subnormal range, where x86 arithmetic takes a slow path and
    later epochs slow down (bench/classic_vae/results.md, runs 8-13).
    Flushing costs no accuracy a model can use: the values are below float32's normal range.

    The mode belongs to each thread, and torch's OpenMP threads copy it from the thread that starts them, at
    torch's first parallel operation in the process. Enter this before that operation (before a model is built)
    for the whole effect: threads started earlier keep their mode, and threads started inside the block keep
    this one after it (only the calling thread's mode is restored). CPUs without the mode (not x86) run unchanged.
    """
    if not on or flushes_subnormals() or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@dataclass
class Precision:
    """Autocast for the forward pass and loss, and the loss scaling fp16 needs."""

    name: str
    device: torch.device

    def __post_init__(self) -> None:
        _check_choice("precision", self.name, list(PRECISIONS))
        self.dtype = PRECISIONS[self.name]
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.name == "fp16")

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.dtype is None:
            yield
            return
        with torch.autocast(self.device.type, dtype=self.dtype):
            yield

    def step(
        self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, model: nn.Module, grad_clip: float | None
    ) -> None:
        """Backward, optional gradient-norm clipping (on unscaled gradients) and the optimizer step."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if grad_clip is not None:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip, foreach=True)
        self.scaler.step(optimizer)
        self.scaler.update()
