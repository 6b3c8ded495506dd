"""Build one VAE for the detector from the library's parts and train it with the library's loop,
without disturbing the caller's global random state."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset
from vaelab.data.schema import Feature
from vaelab.models import VAE
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit

LIKELIHOODS: dict[str, dict[str, Any]] = {
    "gaussian": {"name": "gaussian", "scale": "learned"},
    "gaussian-decoder": {"name": "gaussian", "scale": "decoder"},
    "gaussian-unit": {"name": "gaussian", "scale": 1.0},
    "continuous-bernoulli": {"name": "continuous-bernoulli"},
}
"""The detector's likelihood names as model parts (``model.likelihood`` of ``ModelConfig``): a Gaussian with a
learned per-feature scale, with unit scale, or heteroscedastic (the decoder outputs the scale), each
learned scale bounded below by ``min_scale``; or the continuous Bernoulli for grey levels. Rows whose
dataset names its columns' kinds (0/1 columns among them) use the columns likelihood instead
(``BINARY_LIKELIHOODS``)."""
BINARY_LIKELIHOODS = ("gaussian", "gaussian-decoder")
"""The likelihoods that may give 0/1 columns a Bernoulli (``vaelab.likelihoods.columns``: the continuous
columns keep their Gaussian with a learned or a decoded scale)."""


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


def build_vae(
    data: ArrayDataset,
    likelihood: str,
    latent_dim: int,
    hidden_dims: Sequence[int] = (),
    conv_channels: Sequence[int] = (),
    conv_hidden: int = 0,
    min_scale: float = 1e-3,
) -> VAE:
    """The detector's VAE for the model-space rows of ``data``, built like every vaelab model
    (``vaelab.models.build``): (D,) tables through MLPs of ``hidden_dims``, (C, H, W) images through conv
    nets of ``conv_channels`` and ``conv_hidden`` features; a diagonal Gaussian posterior and a standard
    normal prior. ``min_scale`` bounds a learned Gaussian scale from below, in the units of the scaled
    columns. A table whose ``data.features`` are given (binary and continuous columns) gets the columns
    likelihood: a Bernoulli per 0/1 column, the Gaussian of ``likelihood`` for the others."""
    network: dict[str, Any] = (
        {"name": "conv", "channels": list(conv_channels), "hidden": conv_hidden}
        if conv_channels
        else {"name": "mlp", "hidden_dims": list(hidden_dims)}
    )
    likelihood_part = {
        **LIKELIHOODS[likelihood],
        **({"min_scale": min_scale} if "scale" in LIKELIHOODS[likelihood] else {}),
    }
    if data.features is not None:
        scale = LIKELIHOODS[likelihood]["scale"]
        likelihood_part = {"name": "columns", "continuous": "gaussian", "scale": scale, "min_scale": min_scale}
    config = ModelConfig.model_validate(
        {
            "latent_dim": latent_dim,
            "network": network,
            "likelihood": likelihood_part,
            "prior": "standard-normal",
            "posterior": "gaussian",
        }
    )
    return build_model(resolve_spec(config, data))


def train_vae(
    x: np.ndarray,
    build: Callable[[ArrayDataset], VAE],
    settings: TrainSettings,
    beta: float = 1.0,
    features: tuple[Feature, ...] | None = None,
) -> VAE:
    """A VAE from ``build(rows)`` (weights initialised from ``settings.seed``) trained on the model-space
    rows ``x`` with the ELBO of KL weight ``beta``; ``features``: the kinds of a table's columns, if any."""
    rows = ArrayDataset(x, None, None, "vaelab-detector", kind=None if features is None else "table", features=features)
    with isolated_global_rng(torch.device(settings.device)):
        torch.manual_seed(settings.seed)
        model = build(rows)
        fit(model, ELBO(beta=beta), rows, None, settings)
    return model
