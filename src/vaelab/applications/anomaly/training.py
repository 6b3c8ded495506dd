"""Build one VAE for the detector from the library's parts and train it with the library's loop,
without disturbing the caller's global random state."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset
from vaelab.likelihoods import ContinuousBernoulliLikelihood, GaussianLikelihood, Likelihood
from vaelab.models import VAE
from vaelab.nn import conv_pair, mlp_pair
from vaelab.objectives import ELBO
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import StandardNormalPrior
from vaelab.training import TrainSettings, fit

LIKELIHOODS: dict[str, Callable[[tuple[int, ...], float], Likelihood]] = {
    "gaussian": lambda shape, min_scale: GaussianLikelihood(shape, "learned", min_scale),
    "gaussian-decoder": lambda shape, min_scale: GaussianLikelihood(shape, "decoder", min_scale),
    "gaussian-unit": lambda shape, min_scale: GaussianLikelihood(shape, 1.0),
    "continuous-bernoulli": lambda shape, min_scale: ContinuousBernoulliLikelihood(shape),
}
"""Detector likelihood name -> builder ``(data_shape, min_scale)``: a Gaussian with a learned per-feature
scale, with unit scale, or heteroscedastic (the decoder outputs the scale), each learned scale bounded
below by ``min_scale``; or the continuous Bernoulli for grey levels."""


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
    data_shape: Sequence[int],
    likelihood: str,
    latent_dim: int,
    hidden_dims: Sequence[int] = (),
    conv_channels: Sequence[int] = (),
    conv_hidden: int = 0,
    min_scale: float = 1e-3,
) -> VAE:
    """The detector's VAE for model-space rows of ``data_shape``: (D,) tables through MLPs of
    ``hidden_dims``, (C, H, W) images through conv nets of ``conv_channels`` and ``conv_hidden`` features;
    a diagonal Gaussian posterior and a standard normal prior. ``min_scale`` bounds a learned Gaussian
    scale from below, in the units of the scaled columns."""
    shape = tuple(data_shape)
    p_x = LIKELIHOODS[likelihood](shape, min_scale)
    out_shape = (p_x.params_per_element, *shape)
    encoder, decoder, features = (
        conv_pair(shape, conv_channels, conv_hidden, latent_dim, out_shape)
        if conv_channels
        else mlp_pair(shape, hidden_dims, latent_dim, out_shape)
    )
    posterior = DiagonalGaussianPosterior(features, latent_dim)
    return VAE(
        encoder, posterior, StandardNormalPrior(latent_dim), decoder, p_x, data_shape=shape, latent_dim=latent_dim
    )


def train_vae(x: np.ndarray, build: Callable[[], VAE], settings: TrainSettings, beta: float = 1.0) -> VAE:
    """A VAE from ``build()`` (weights initialised from ``settings.seed``), trained on the ELBO with KL
    weight ``beta``."""
    with isolated_global_rng(torch.device(settings.device)):
        torch.manual_seed(settings.seed)
        model = build()
        fit(model, ELBO(beta=beta), ArrayDataset(x, None, None, "vaelab-detector"), None, settings)
    return model
