"""Likelihood figures of a model on a dataset: ELBO and its terms, importance-sampled log p(x), bits/dim.

Per example, in nats:

- ``elbo = reconstruction - kl`` with ``reconstruction = log p(x|z)`` at one z ~ q(z|x) and ``kl`` =
  KL(q(z|x) || p(z)) (Kingma & Welling 2014, eq. 3; closed form where torch has one);
- ``nll = -log p̂(x)``, ``log p̂(x) = logsumexp_k log w_k - log K``, ``w_k = p(x, z_k) / q(z_k|x)``,
  z_k ~ q(z|x) (Burda et al. 2016, eq. 8). ``E[log p̂]`` rises with K towards log p(x) and is never
  below the ELBO, so nll <= -elbo up to Monte Carlo noise;
- ``bits_per_dim`` from ``nll`` for discrete data (see :mod:`vaelab.evaluation.bits`).

A model with a classifier q(y|x) (M2, Kingma et al. 2014) is scored without the data's labels: ``elbo`` is the
bound U(x) on log p(x) with y summed out under q(y|x) (eq. 7), ``nll`` sums the classes of p(x|y) p(y) exactly
(:mod:`vaelab.models.label_bounds`).

A deterministic encoder (the ``point`` posterior: WAE, SWAE, RAE) has no density to importance-sample with:
every weight is p(x, z) at the one code, which is no estimate of p(x), so ``nll`` and ``bits_per_dim`` are
left out for it, and ``elbo`` is log p(x, z) at the code, not a bound.

All estimates run under ``torch.inference_mode()`` in chunks (``VAE.log_likelihood`` bounds the
decoder outputs held at once), so memory stays bounded whatever K and N are.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from vaelab.data.batch import Batch, dataset_batches
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.evaluation.bits import bits_per_dim
from vaelab.evaluation.inputs import EVAL_BATCH, mean_and_stderr, model_device
from vaelab.models import VAE
from vaelab.posteriors.point import PointPosterior


@torch.inference_mode()
def likelihood_per_example(model: VAE, data: ArrayDataset, num_samples: int = 1000) -> dict[str, np.ndarray]:
    """Per-example ``elbo``, ``reconstruction``, ``kl``, ``nll`` (nats) and, for discrete data,
    ``bits_per_dim``; each a float64 array (N,) in data order. No ``nll`` for a point posterior (see above)."""
    chunks: dict[str, list[np.ndarray]] = {"elbo": [], "reconstruction": [], "kl": [], "nll": []}
    if isinstance(model.posterior, PointPosterior):
        chunks.pop("nll")
    for batch in dataset_batches(data, EVAL_BATCH, model_device(model)):
        batch = _label_free(model, batch)
        for name, value in model.bound_terms(batch).items():  # (b,) each
            chunks[name].append(value.double().cpu().numpy())
        if "nll" in chunks:
            chunks["nll"].append((-model.log_likelihood(batch, num_samples=num_samples)).double().cpu().numpy())
    values = {name: np.concatenate(parts) for name, parts in chunks.items()}
    if "nll" not in values:
        return values
    bits = bits_per_dim(
        values["nll"], data_dim=math.prod(model.data_shape), levels=data.levels, likelihood=model.likelihood.name
    )
    if bits is not None:
        values["bits_per_dim"] = bits
    return values


def _label_free(model: VAE, batch: Batch) -> Batch:
    """``batch`` as evaluated: without its labels for a model with a classifier q(y|x) (M2), whose bound is then
    U(x) on log p(x) (Kingma et al. 2014, eq. 7) and whose log p(x) sums the class out, so no label of the
    evaluated data enters the figures."""
    return replace(batch, y=None, labelled=None) if model.classifier is not None else batch


def summarise(per_example: dict[str, np.ndarray]) -> dict[str, float]:
    """``name`` -> mean and ``name_stderr`` -> standard error of the mean, for each per-example array."""
    result: dict[str, float] = {}
    for name, values in per_example.items():
        result[name], result[f"{name}_stderr"] = mean_and_stderr(values)
    return result


def evaluate_likelihood(model: VAE, data: ArrayDataset, num_samples: int = 1000) -> dict[str, float]:
    """Per-example means (nats) with standard errors: ``elbo``, ``reconstruction``, ``kl``, ``nll`` with
    ``num_samples`` importance samples, and ``bits_per_dim`` for discrete data."""
    if len(data) == 0:
        raise UserError("the dataset is empty; evaluate a split that holds examples")
    result = summarise(likelihood_per_example(model, data, num_samples))
    result["num_examples"] = len(data)
    result["num_samples"] = num_samples
    return result
