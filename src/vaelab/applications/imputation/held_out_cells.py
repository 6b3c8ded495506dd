"""Choosing how long an imputer trains, on observed cells held out of training.

A share of the observed cells is hidden from the model while it trains; every ``every`` optimisation steps
the model predicts them from each row's other observed cells, and the weights that predict them best are
kept (early stopping on held-out cells, as in Yoon et al. 2018's and Mattei & Frellsen 2019's model
selection). The measure is the error of the imputation itself, the importance-sampled conditional mean
(:func:`~vaelab.applications.imputation.importance.conditional_mean`), on the held-out cells. (Their
conditional log-likelihood was tried first: it peaks earlier, once the decoded scales shrink, and chose
checkpoints that imputed worse on the larger tables of ``bench/imputation/choose_defaults.py``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from vaelab.applications.imputation.importance import conditional_mean
from vaelab.applications.imputation.sampling import seeded_sampling
from vaelab.applications.synthetic.tabular_vae import TabularVAE
from vaelab.data.batch import Batch
from vaelab.models import VAE

EVALUATIONS = 40
"""About this many checks over a fit."""
CHECK_SAMPLES = 100
"""Importance samples per check."""
HELD_OUT_STREAM = 0x68656C64
"""Mixed into the seed, so the held-out cells are not drawn from the random numbers a caller's own missing
cells may have come from."""
FEW_VALUES = 50
"""A column with at most this many distinct values keeps one observed cell of each."""


def hide_cells(frame: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with a seeded random ``share`` of its observed cells set missing, and ``held: (N, D)`` bool
    marking them. Every column keeps at least one observed cell, and a column of few distinct values (a
    category, a flag) keeps one of each, so the model still learns every column and category."""
    observed = frame.notna().to_numpy()
    draws = np.random.default_rng([seed, HELD_OUT_STREAM]).random(observed.shape)  # not the stream of a mask
    held = (draws < share) & observed
    for j, column in enumerate(frame.columns):
        values = frame[column]
        for value in values.dropna().unique() if values.nunique() <= FEW_VALUES else [None]:
            rows = np.flatnonzero(observed[:, j] if value is None else (values == value).to_numpy())
            if len(rows) and held[rows, j].all():
                held[rows[0], j] = False
    return frame.mask(held), held


class BestOnHeldOutCells:
    """A training callback (``vaelab.training.fit``'s ``callbacks``) that, every ``every`` steps, scores the
    held-out cells and keeps a copy of the weights that score them best.

    ``tabular`` is the model being fitted on ``hidden`` (the table with the held-out cells missing);
    ``frame`` is the table as given, and ``held: (N, D)`` bool marks the held-out cells. The rows are read
    into model space at the first check, once the model has fitted its columns.
    """

    def __init__(self, tabular: TabularVAE, frame: pd.DataFrame, hidden: pd.DataFrame, held: np.ndarray, every: int):
        self.tabular, self.frame, self.hidden, self.every = tabular, frame, hidden, every
        self.held = torch.from_numpy(held)
        self.rows: Batch | None = None  # the training rows as the model reads them, held-out cells masked
        self.truth = self.categorical = torch.empty(0)  # their true model-space values; which columns are categories
        self.best_score, self.best_step, self.scored_at = -np.inf, 0, 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def __call__(self, record: dict[str, Any]) -> None:
        if record["step"] - self.scored_at < self.every:
            return
        self.scored_at = record["step"]
        score = self.score()
        if score > self.best_score:
            self.best_score, self.best_step = score, record["step"]
            self.best_state = {k: v.detach().clone() for k, v in self._vae().state_dict().items()}

    def score(self) -> float:
        """Minus the mean loss of the imputation ``transform`` gives (the importance-sampled conditional mean)
        over the held-out cells: the squared error in model space (standard deviations of the column; a
        flag's probability against its 0/1), or 1 for a wrong category. The training's random state is left
        alone."""
        vae = self._vae()
        if self.rows is None:
            given, hidden = self.tabular.batch(self.frame), self.tabular.batch(self.hidden)
            self.held = self.held.to(given.x.device)
            self.truth, self.rows = given.x, hidden
            kinds = [feature.kind for feature in self.tabular.features_]
            self.categorical = torch.tensor([kind == "categorical" for kind in kinds], device=given.x.device)
        with seeded_sampling(vae, seed=0):
            imputed = conditional_mean(vae, self.rows, CHECK_SAMPLES)  # (N, D)
        loss = torch.where(self.categorical, (imputed != self.truth).float(), (imputed - self.truth) ** 2)
        return -float(loss[self.held].mean())

    def restore(self) -> None:
        """Put the best weights back into the model (the last ones if nothing was checked)."""
        if self.best_state is not None:
            self._vae().load_state_dict(self.best_state)

    def _vae(self) -> VAE:
        assert self.tabular.model is not None, "checked during or after the fit"
        return self.tabular.model
