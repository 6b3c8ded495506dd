"""``VAEImputer``: fill missing cells of tables and image arrays with a VAE, following scikit-learn's imputers.

The model is a :class:`~vaelab.applications.synthetic.TabularVAE` trained on the incomplete rows themselves
(each row's likelihood over its observed cells only: the masked ELBO, or with ``importance_samples`` > 1 the
MIWAE bound of Mattei & Frellsen 2019); the imputations come from :mod:`.importance` (the conditional mean
by self-normalised importance sampling, multiple imputations by sampling importance resampling) or from the
Metropolis-within-Gibbs chain of :mod:`.gibbs`. Observed cells are returned exactly as given.
"""

from __future__ import annotations

import json
import math
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, TransformerMixin

from vaelab.applications.imputation.gibbs import metropolis_within_gibbs
from vaelab.applications.imputation.held_out_cells import EVALUATIONS, BestOnHeldOutCells, hide_cells
from vaelab.applications.imputation.importance import conditional_mean, resampled_imputations
from vaelab.applications.imputation.sampling import seeded_sampling
from vaelab.applications.synthetic.tabular_vae import TabularVAE, epochs_for_steps
from vaelab.atomic import atomic_write_text
from vaelab.data.batch import Batch
from vaelab.data.table_columns import decode_columns
from vaelab.errors import UserError
from vaelab.models import VAE

SETTINGS_FILE = "imputer.json"
FORMAT = "vaelab.imputer"
METHODS = ("importance", "gibbs")


EPOCHS, MIN_STEPS, MAX_STEPS = 500, 4000, 8000


def default_steps(rows: int, batch_size: int) -> int:
    """Optimisation steps for ``EPOCHS`` epochs over ``rows`` rows, kept within ``MIN_STEPS``..``MAX_STEPS``."""
    return max(MIN_STEPS, min(MAX_STEPS, EPOCHS * math.ceil(rows / min(batch_size, rows))))


class VAEImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with a VAE trained on the incomplete data.

    ``X``: a DataFrame (numbers, categories as text, missing cells as NaN/None; returned as a DataFrame with
    the same index and columns), or an array ``(N, D)`` or ``(N, *image_shape)`` (returned as an array of the
    same shape). ``missing_values`` marks missing cells besides NaN (e.g. -1).

    - ``transform(X)``: single imputation; ``method="importance"``: the conditional mean E[x_m | x_o] from
      ``num_samples`` importance samples (MIWAE's estimator; a categorical cell its most probable category);
      ``method="gibbs"``: the mean (mode) of a Metropolis-within-Gibbs chain's draws.
    - ``multiple_imputations(X)``: ``n_imputations`` completed copies of X drawn from p(x_m | x_o), by
      sampling importance resampling (``importance``) or from the chain (``gibbs``), for Rubin's rules.
    - ``save(directory)`` / ``VAEImputer.load(directory)``: JSON and safetensors, no pickle.

    ``held_out_cells``: a share of the observed cells hidden from training; every 1/40 of the fit the model
    imputes them, and the weights that impute them best are kept (:mod:`.held_out_cells`; ``best_step_`` is
    the step they come from, None with 0). Off by default: on the tables the defaults were chosen on, it
    helped small tables (a few hundred rows) and hurt others, and did not rank better overall.

    The remaining parameters configure the model and its training (:class:`TabularVAE`). The defaults (the
    MIWAE bound with 5 importance samples, a scale floor of 0.1 standard deviations, batches of 128 rows and,
    with ``steps=None``, ``EPOCHS`` epochs kept between ``MIN_STEPS`` and ``MAX_STEPS`` steps: small tables
    overfit past 4,000 steps, tables of 2,000 rows and more gain up to 8,000) were chosen on 12 ADBench tables
    that ``bench/imputation`` does not report (``choose_defaults.py``).
    """

    def __init__(
        self,
        *,
        missing_values: float = np.nan,
        method: Literal["importance", "gibbs"] = "importance",
        n_imputations: int = 5,
        num_samples: int = 1000,
        gibbs_steps: int = 200,
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] = (128, 128),
        continuous: Literal["gaussian", "mixture"] = "gaussian",
        min_scale: float = 0.1,
        importance_samples: int = 5,
        mask_input: bool = False,
        epochs: int | None = None,
        steps: int | None = None,
        held_out_cells: float = 0.0,
        batch_size: int = 128,
        lr: float = 1e-3,
        kinds: dict[str, str] | None = None,
        random_state: int | None = None,
        threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.missing_values = missing_values
        self.method = method
        self.n_imputations = n_imputations
        self.num_samples = num_samples
        self.gibbs_steps = gibbs_steps
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.continuous = continuous
        self.min_scale = min_scale
        self.importance_samples = importance_samples
        self.mask_input = mask_input
        self.epochs = epochs
        self.steps = steps
        self.held_out_cells = held_out_cells
        self.batch_size = batch_size
        self.lr = lr
        self.kinds = kinds
        self.random_state = random_state
        self.threads = threads
        self.device = device

    # ------------------------------------------------------------------ fit
    shape_: tuple[int, ...] | None  # after fit: an array's shape per row; None for a DataFrame

    def fit(self, X: Any, y: Any = None) -> VAEImputer:
        self._check_method()
        frame = self._frame(X, fitting=True)
        width = frame.shape[1]
        tabular = TabularVAE(
            latent_dim=self.latent_dim or max(1, min(16, width - 1)),
            hidden_dims=tuple(self.hidden_dims),
            continuous=self.continuous,
            min_scale=self.min_scale,
            integer_floor=None,  # the scale floor is min_scale for every column, as the defaults were chosen with
            atom_share=None,  # no atoms: likewise
            importance_samples=self.importance_samples,
            mask_input=self.mask_input,
            epochs=self._epochs(len(frame)),
            batch_size=self.batch_size,
            lr=self.lr,
            validation=0.0,  # the rows to impute are the rows to learn from
            conditional=False,
            kinds=dict(self.kinds or {}),
            random_state=0 if self.random_state is None else self.random_state,
            threads=self.threads,
            device=self.device,
        )
        self.best_step_ = None
        if not 0 <= self.held_out_cells < 1:
            raise UserError(f"held_out_cells must be a share in [0, 1), not {self.held_out_cells}")
        hidden, held = (
            hide_cells(frame, self.held_out_cells, tabular.settings.random_state)
            if self.held_out_cells > 0
            else (frame, np.zeros(frame.shape, dtype=bool))
        )
        if held.any():  # train on the other cells; keep the weights that predict the held-out ones best
            every = max(1, tabular.steps(len(frame)) // EVALUATIONS)
            best = BestOnHeldOutCells(tabular, frame, hidden, held, every)
            tabular.fit(hidden, callbacks=[best])
            best.restore()
            self.best_step_ = best.best_step
        else:
            tabular.fit(frame)
        self.model_ = tabular
        return self

    def _epochs(self, rows: int) -> int:
        """``epochs`` as given, else enough epochs for ``steps`` optimisation steps (None: ``default_steps``)."""
        if self.epochs is not None:
            return self.epochs
        if self.steps is not None and self.steps < 1:
            raise UserError(f"steps must be at least 1, not {self.steps}")
        steps = default_steps(rows, self.batch_size) if self.steps is None else self.steps
        return epochs_for_steps(steps, rows, self.batch_size)

    # -------------------------------------------------------------- impute
    def transform(self, X: Any) -> Any:
        """X with every missing cell filled by its single imputation."""
        self._check_method()
        frame = self._frame(X)
        batch = self._model().batch(frame)
        with self._sampling():
            if self.method == "importance":
                x = conditional_mean(self._vae(), batch, self.num_samples)
            else:
                x = self._pooled(self._chain(batch))
        return self._completed(X, frame, x)

    def multiple_imputations(self, X: Any) -> list[Any]:
        """``n_imputations`` copies of X, each with its missing cells drawn from p(x_m | x_o)."""
        self._check_method()
        if self.n_imputations < 1:
            raise UserError(f"n_imputations must be at least 1, not {self.n_imputations}")
        frame = self._frame(X)
        batch = self._model().batch(frame)
        with self._sampling():
            if self.method == "importance":
                draws = resampled_imputations(self._vae(), batch, self.n_imputations, self.num_samples)
            else:
                draws = self._chain(batch, keep=self.n_imputations)
        return [self._completed(X, frame, x) for x in draws]

    def _check_method(self) -> None:
        if self.method not in METHODS:
            raise UserError(f"unknown method {self.method!r}; use one of {', '.join(METHODS)}")

    def _chain(self, batch: Batch, keep: int | None = None) -> torch.Tensor:
        """Kept completions ``(M, N, D)`` of a Metropolis-within-Gibbs chain started from the importance-sampled
        conditional mean (100 samples), after a burn-in of half of ``gibbs_steps``: every later one, or ``keep``
        evenly spaced (the chain runs longer if need be)."""
        start = conditional_mean(self._vae(), batch, min(self.num_samples, 100))
        burn_in = self.gibbs_steps // 2
        kept = max(1, self.gibbs_steps - burn_in)
        thin = 1 if keep is None else max(1, kept // keep)
        steps = burn_in + (kept if keep is None else max(kept, keep * thin))
        chain = metropolis_within_gibbs(self._vae(), batch, start, steps, burn_in, thin)
        return chain.draws if keep is None else chain.draws[-keep:]

    def _pooled(self, draws: torch.Tensor) -> torch.Tensor:
        """One completion ``(N, D)`` from draws ``(M, N, D)``: the mean, or a categorical column's most frequent."""
        pooled = draws.mean(0)
        for j, feature in enumerate(self._model().features_):
            if feature.kind == "categorical":
                pooled[:, j] = draws[:, :, j].mode(dim=0).values
        return pooled

    def _sampling(self) -> AbstractContextManager[None]:
        """Seeded, thread-limited, gradient-free sampling that leaves the caller's random state alone."""
        return seeded_sampling(self._vae(), 0 if self.random_state is None else self.random_state, self.threads)

    # ------------------------------------------------------------ in and out
    def _model(self) -> TabularVAE:
        model = getattr(self, "model_", None)
        if model is None:
            raise UserError("this VAEImputer is not fitted yet: call fit(X) first")
        return model

    def _vae(self) -> VAE:
        vae = self._model().model
        assert vae is not None
        return vae

    def _frame(self, X: Any, fitting: bool = False) -> pd.DataFrame:
        """X as a DataFrame of named columns with NaN (None for text) in its missing cells."""
        if isinstance(X, pd.DataFrame):
            frame = X.copy()
        else:
            array = np.asarray(X)
            if array.ndim < 2:
                raise UserError(f"X must be a table (N, D) or images (N, ...), not an array of shape {array.shape}")
            if array.dtype == object or not np.issubdtype(array.dtype, np.number):
                raise UserError("an array X must hold numbers; pass text columns in a pandas DataFrame")
            flat = array.reshape(len(array), -1).astype(np.float64)
            frame = pd.DataFrame(flat, columns=[f"x{j}" for j in range(flat.shape[1])])
            if fitting:
                self.shape_ = tuple(array.shape[1:])
            elif getattr(self, "shape_", None) is not None and tuple(array.shape[1:]) != self.shape_:
                shape = tuple(array.shape[1:])
                raise UserError(f"X has shape {shape} per row; the imputer was fitted on {self.shape_}")
        if len(frame) == 0:
            raise UserError("X has no rows")
        if not (isinstance(self.missing_values, float) and math.isnan(self.missing_values)):
            frame = frame.mask(frame == self.missing_values)
        empty = [j for j, column in enumerate(frame.columns) if frame[column].isna().all()]
        if empty:
            where = (
                f"column {frame.columns[empty[0]]!r}"
                if isinstance(X, pd.DataFrame)
                else f"entry {tuple(int(i) for i in np.unravel_index(empty[0], np.asarray(X).shape[1:]))}"
            )
            raise UserError(f"{where} is missing in every row: nothing to learn it from; drop it first")
        if fitting and isinstance(X, pd.DataFrame):
            self.shape_ = None
        return frame

    def _completed(self, X: Any, frame: pd.DataFrame, x: torch.Tensor) -> Any:
        """X with its missing cells taken from the model-space rows ``x: (N, D)``; observed cells untouched."""
        features = self._model().features_
        decoded = decode_columns(x.cpu().double().numpy(), features, clip=True)  # binary cells: probabilities
        imputed = pd.DataFrame({f.name: decoded[f.name] for f in features})
        imputed.index, imputed.columns = frame.index, frame.columns
        if isinstance(X, pd.DataFrame):
            out = X.copy()
            for column in frame.columns:
                missing = frame[column].isna()
                if missing.any():
                    out[column] = _filled_column(out[column], missing, imputed[column])
            return out
        filled = frame.to_numpy(dtype=np.float64, copy=True)
        missing = np.isnan(filled)
        filled[missing] = imputed.to_numpy(dtype=np.float64)[missing]
        return filled.reshape(len(filled), *np.asarray(X).shape[1:])

    # ---------------------------------------------------------- save, load
    def save(self, directory: str | Path) -> None:
        """Write the model and ``imputer.json`` (the parameters) into ``directory``; no pickle."""
        self._model().save(directory)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        if isinstance(params["missing_values"], float) and math.isnan(params["missing_values"]):
            params["missing_values"] = None
        state = {"format": FORMAT, "params": params, "shape": None if self.shape_ is None else list(self.shape_)}
        atomic_write_text(Path(directory) / SETTINGS_FILE, json.dumps(state, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> VAEImputer:
        """A VAEImputer saved by :meth:`save`; reads JSON and safetensors only."""
        path = Path(directory) / SETTINGS_FILE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            message = f"{path}: cannot read a saved VAEImputer ({error}); save one with VAEImputer.save"
            raise UserError(message) from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise UserError(f"{path}: is not a saved VAEImputer; save one with VAEImputer.save")
        params = dict(state["params"])
        params["missing_values"] = np.nan if params["missing_values"] is None else params["missing_values"]
        params["hidden_dims"] = tuple(params["hidden_dims"])
        imputer = cls(**params)
        imputer.model_ = TabularVAE.load(directory)
        imputer.shape_ = None if state.get("shape") is None else tuple(state["shape"])
        return imputer


def _filled_column(original: pd.Series, missing: pd.Series, imputed: pd.Series) -> pd.Series:
    """``original`` with its ``missing`` cells from ``imputed``: numbers as floats (an integer column stays one
    when every imputed value is whole); labels in the column's own dtype (text, category, object)."""
    if pd.api.types.is_numeric_dtype(original) and not pd.api.types.is_bool_dtype(original):
        values = original.astype("float64").where(~missing, imputed.astype("float64"))
        whole = bool(np.all(values == np.round(values)))
        return values.astype(original.dtype) if pd.api.types.is_integer_dtype(original) and whole else values
    return original.where(~missing, imputed.astype(object)).astype(original.dtype)
