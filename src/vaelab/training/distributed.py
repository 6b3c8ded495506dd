"""Multi-process training on PyTorch's own engine: ``torchrun`` + ``DistributedDataParallel``.

``torchrun --nproc-per-node N -m vaelab train ...`` starts N processes with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and the rendezvous address in their environment; multi-node runs add ``--nnodes`` and
``--rdzv-endpoint``. Each process joins the process group here (NCCL on GPUs, gloo on CPUs), trains on its
own slice of every global batch, and DDP averages the gradients. Only rank 0 writes files.
"""

from __future__ import annotations

import atexit
import importlib
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in the run; the default is a single-process run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum over processes (in place); unchanged in a single-process run."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every process (a small Python object, e.g. the run directory)."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """``module`` in ``DistributedDataParallel``, which averages its gradients over processes in the
        backward pass; ``module`` itself in a single-process run."""
        if not self.enabled:
            return module
        return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group together. A process that exits with the group still open can abort
        in gloo's teardown ("terminate called without an active exception") while another still uses it."""
        if self.enabled and dist.is_initialized():
            self.barrier()
            _leave_group()


def _leave_group() -> None:
    """At exit, free a group the program has not closed, so that its threads end before the interpreter
    does (a process that exits with gloo's threads running can abort: "terminate called without an active
    exception"). No barrier: a process leaving after an error must not wait for the others."""
    if dist.is_initialized():
        dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: str) -> tuple[Distributed, torch.device]:
    """Join the process group when launched by torchrun; return this process's place and device.

    With ``device="cuda"`` each process takes the GPU of its ``LOCAL_RANK``; on CPUs the gloo backend
    runs the same code path (this is how the test suite exercises it with two processes).
    """
    if not launched_by_torchrun():
        return Distributed(), torch.device(device)
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    on_gpu = device.startswith("cuda")
    if on_gpu:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        # torch._dynamo imported after the group exists (DistributedDataParallel imports it) keeps the group
        # alive past destroy_process_group (torch 2.13); its gloo threads then outlive the interpreter and a
        # process can abort on exit. Imported first, the group is freed and its threads joined when it is left
        # (close(), or _leave_group at exit).
        importlib.import_module("torch._dynamo")
        dist.init_process_group(backend="nccl" if on_gpu else "gloo")
        atexit.register(_leave_group)
    return Distributed(rank, world_size, local_rank), torch.device(f"cuda:{local_rank}" if on_gpu else "cpu")
