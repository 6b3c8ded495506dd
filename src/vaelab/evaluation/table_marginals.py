"""The bound a table model must beat: independent per-column marginals, each fitted on the training rows.

A VAE over a table that scores held-out rows no better than a product of per-column marginals has learnt
nothing about how the columns go together (or has not learnt the columns themselves). The marginals are
the maximum-likelihood fit of the simplest family of each kind, in model space
(:mod:`vaelab.data.table_columns`): continuous -> a Gaussian (where the model's likelihood has an atom for
the column: the atom's add-one smoothed share, and a Gaussian over the other values); binary, categorical,
ordinal -> the category frequencies (add-one smoothed, so a held-out category never scores -inf); count -> a
Poisson.
Missing cells are left out, as the models' masked bounds leave them out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from vaelab.data.batch import dataset_batches
from vaelab.data.dataset import ArrayDataset
from vaelab.data.schema import Feature
from vaelab.likelihoods.columns import atom_tolerances, continuous_atoms
from vaelab.models import VAE

BATCH_ROWS = 4096


@dataclass(frozen=True)
class MarginalComparison:
    """Mean nats per held-out row: the model's ELBO (a lower bound on its log-likelihood) and the
    log-likelihood of independent per-column marginals fitted on the training rows."""

    bound: float
    marginals: float

    @property
    def worse(self) -> bool:
        return self.bound < self.marginals

    def message(self) -> str:
        """One line for the user; when the model is the worse of the two it says so and what to do."""
        figures = f"held-out bound {self.bound:.2f} nats per row; independent per-column marginals {self.marginals:.2f}"
        if not self.worse:
            return figures
        return (
            f"the model is worse than independent per-column marginals ({figures}): it has not learnt how the "
            "columns go together; train longer, or check the columns' kinds"
        )


def compare_with_marginals(model: VAE, train: ArrayDataset, valid: ArrayDataset) -> MarginalComparison:
    """The model's mean ELBO on the table rows ``valid`` against marginals fitted on ``train`` (both with
    ``features``, in model space); rows are read in chunks, the condition as the datasets give it."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        bound = torch.cat([model.elbo(batch) for batch in dataset_batches(valid, BATCH_ROWS, device)])
    model.train(was_training)
    return MarginalComparison(float(bound.mean()), marginal_bound(model, train, valid))


def marginal_bound(model: VAE, train: ArrayDataset, valid: ArrayDataset) -> float:
    """Mean log-likelihood in nats of the rows of ``valid`` under the per-column marginals fitted on ``train``,
    each continuous column's atom as ``model``'s columns likelihood has it (none for a likelihood without)."""
    if train.features is None:
        raise ValueError("marginals are fitted per column: the data need their features")
    atom_share = getattr(model.likelihood, "atom_share", None)
    marginals = marginal_log_likelihood(np.asarray(train.x), np.asarray(valid.x), train.features, atom_share)
    return float(marginals.mean())


def marginal_log_likelihood(
    train: np.ndarray, test: np.ndarray, features: Sequence[Feature], atom_share: float | None = None
) -> np.ndarray:
    """``(N_test,)`` log-likelihood in nats of each test row under the product of the marginals fitted on
    ``train``; both model-space ``(N, D)`` with NaN where missing. ``atom_share``: the columns likelihood's, so
    that a continuous column's atom (:func:`~vaelab.likelihoods.columns.continuous_atoms`) is scored as the
    model scores it, by a probability."""
    atoms = continuous_atoms(features, atom_share) or [math.nan] * len(features)
    tolerances = atom_tolerances(features)
    total = np.zeros(len(test))
    for j, feature in enumerate(features):
        fitted, values = train[:, j], test[:, j]
        fitted = fitted[~np.isnan(fitted)]
        present = ~np.isnan(values)
        log_p = np.zeros(len(values))
        if feature.kind == "continuous":
            log_p[present] = _continuous_log_p(fitted, values[present], atoms[j], tolerances[j])
        elif feature.kind == "count":
            log_p[present] = stats.poisson.logpmf(values[present], max(float(fitted.mean()), 1e-4))
        else:
            classes = len(feature.categories or ()) if feature.kind == "categorical" else (feature.levels or 2)
            counts = np.bincount(fitted.astype(np.int64), minlength=classes) + 1.0
            log_frequency = np.log(counts / counts.sum())
            log_p[present] = log_frequency[values[present].astype(np.int64)]
        total += log_p
    return total


def _continuous_log_p(fitted: np.ndarray, values: np.ndarray, atom: float, tolerance: float) -> np.ndarray:
    """A Gaussian fitted on ``fitted``; with an ``atom`` (not NaN), the atom's add-one smoothed share at it (within
    ``tolerance``) and that share's complement times a Gaussian fitted on the other values elsewhere."""
    at_atom = np.abs(fitted - atom) <= tolerance
    others = fitted[~at_atom] if at_atom.any() and not at_atom.all() else fitted
    log_p = stats.norm.logpdf(values, float(others.mean()), max(float(others.std()), 1e-3))
    if np.isnan(atom):
        return np.asarray(log_p)
    share = (at_atom.sum() + 1.0) / (len(fitted) + 2.0)
    return np.where(np.abs(values - atom) <= tolerance, np.log(share), np.log1p(-share) + log_p)
