"""Sampling from a fitted VAE for imputation: seeded, gradient-free, in evaluation mode, and leaving the caller's
random state, thread count and the model's training mode as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from vaelab.applications.anomaly.training import isolated_global_rng, torch_threads
from vaelab.models import VAE


@contextmanager
def seeded_sampling(vae: VAE, seed: int, threads: int | None = None) -> Iterator[None]:
    """Run a block that samples from ``vae`` with torch's generator seeded to ``seed`` and ``threads`` intra-op
    threads (None: unchanged), under ``inference_mode`` with ``vae`` in evaluation mode."""
    was_training = vae.training
    device = next(vae.parameters()).device
    with torch_threads(threads), isolated_global_rng(device), torch.inference_mode():
        torch.manual_seed(seed)
        vae.eval()
        try:
            yield
        finally:
            vae.train(was_training)
