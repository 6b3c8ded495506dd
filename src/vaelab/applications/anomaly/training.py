"""Build one VAE for the detector through the library's builders and train it with the library's loop,
without disturbing the caller's global random state."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit

LIKELIHOODS: dict[str, dict[str, Any]] = {
    "gaussian": {"likelihood": "gaussian", "gaussian_scale": "learned"},
    "gaussian-decoder": {"likelihood": "gaussian", "gaussian_scale": "decoder"},
    "gaussian-unit": {"likelihood": "gaussian", "gaussian_scale": 1.0},
    "continuous-bernoulli": {"likelihood": "continuous-bernoulli"},
}
"""Detector likelihood name -> ModelConfig fields: a Gaussian with a learned per-feature scale, with unit
scale, or heteroscedastic (the decoder outputs the scale), or the continuous Bernoulli for grey levels."""


@contextmanager
def isolated_global_rng(device: torch.device) -> Iterator[None]:
    """Run a block that seeds Python's, NumPy's and torch's global generators, then restore them: an
    estimator must not change the caller's random state."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run a block with ``count`` torch intra-op threads (None: leave the setting), then restore it."""
    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def detector_spec(x: np.ndarray, likelihood: str, **model: Any) -> dict[str, Any]:
    """The model spec for model-space data ``x`` (float32; (N, D) tables or (N, C, H, W) images)."""
    config = ModelConfig(preset="vae", **LIKELIHOODS[likelihood], **model)
    return model_spec(config, ArrayDataset(x[:2], None, None, "vaelab-detector"))


def train_vae(x: np.ndarray, spec: dict[str, Any], settings: TrainSettings, beta: float = 1.0) -> VAE:
    """A VAE built from ``spec`` (weights initialised from ``settings.seed``), trained on the ELBO with KL
    weight ``beta``."""
    with isolated_global_rng(torch.device(settings.device)):
        torch.manual_seed(settings.seed)
        model = build_model(spec)
        fit(model, ELBO(beta=beta), ArrayDataset(x, None, None, "vaelab-detector"), None, settings)
    return model
