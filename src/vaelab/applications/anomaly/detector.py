"""``VAEDetector``: a scikit-learn outlier detector whose score is built from a VAE's evidence lower bound.

It follows ``sklearn.ensemble.IsolationForest``'s conventions: ``score_samples`` (higher = more normal),
``decision_function = score_samples - offset_`` (negative = outlier), ``predict`` (+1 inlier, -1 outlier),
``fit_predict``, and ``contamination`` ("auto" or the expected fraction of outliers).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from vaelab.applications.anomaly import defaults
from vaelab.applications.anomaly.defaults import DEFAULT_SCORE
from vaelab.applications.anomaly.diagnostics import PosteriorCollapseWarning, latent_activity
from vaelab.applications.anomaly.images import ImagePreprocessor
from vaelab.applications.anomaly.preprocessing import TabularPreprocessor, is_frame
from vaelab.applications.anomaly.saving import load_detector, save_detector
from vaelab.applications.anomaly.scores import DEFAULT_SAMPLES, SCORES, score_rows
from vaelab.applications.anomaly.training import BINARY_LIKELIHOODS, LIKELIHOODS, build_vae, torch_threads, train_vae
from vaelab.applications.anomaly.validation import InvalidInput, check_min_rows
from vaelab.data.download import one_line
from vaelab.data.schema import Feature
from vaelab.models import VAE
from vaelab.training import TrainSettings

TUKEY_FENCE = 1.5
"""contamination="auto": rows scoring below Q1 - 1.5 IQR of the training scores are outliers (Tukey 1977)."""
GRAD_CLIP = 10.0
DIAGNOSTIC_ROWS = 10_000


class VAEDetector(OutlierMixin, BaseEstimator):
    """Unsupervised anomaly detection with a variational autoencoder (Kingma & Welling 2014).

    The VAE is trained on the ELBO; a row's score is built from the ELBO's terms (by default the
    reconstruction log-likelihood minus w times the KL: w = 1, the ELBO itself, for tables, and w = 4 for
    images, see :mod:`vaelab.applications.anomaly.defaults`), or is the importance-weighted likelihood, so
    higher is more normal. On tables the default is a trimmed fit: a first VAE scores the training rows, and
    the detector's VAE is trained on all but the lowest-scoring ``trim`` fraction of them; two VAEs are so
    fitted from different seeds and their scores averaged.

    Tables (arrays or pandas DataFrames) are preprocessed by a fitted :class:`TabularPreprocessor` (scaling
    robust to outliers, one-hot categories, constant columns dropped, missing values rejected or imputed);
    image arrays ``(N, H, W)`` / ``(N, C, H, W)`` use a convolutional VAE.

    Parameters
    ----------
    score_type : one of ``SCORES``: "rate-weighted" (default: E_q log p(x|z) - rate_weight KL(q(z|x) || p(z))),
        "elbo", "kl" (-KL(q(z|x) || p(z)), the rate), "beta-elbo" (E_q log p(x|z) - beta KL, the objective
        a model trained with ``beta`` maximises), "iwae" (importance-weighted log p(x), Burda et al. 2016),
        "reconstruction" (E_q log p(x|z)), "latent-density" (log p(E_q[z])). See ``DEFAULT_SCORE`` for the
        rule behind the default.
    rate_weight : the KL weight w of the "rate-weighted" score; w = 1 gives the ELBO, a large w ranks rows
        by their rate alone; None: 1 for tables, 4 for images (``defaults.rate_weight``).
    num_samples : posterior samples per row for the score (None: ``DEFAULT_SAMPLES[score]``).
    contamination : "auto" (threshold at Tukey's lower fence of the training scores) or the expected
        fraction of outliers in (0, 0.5] (threshold at that quantile of the training scores).
    scaling : numeric column scaling, "robust" (median / IQR) | "standard" | "quantile" (tables only).
    missing : "error" (reject NaN / None, naming column and row) or "impute" (tables only).
    categorical_columns : extra categorical columns by position (or name, for DataFrames); non-numeric
        DataFrame columns are categorical anyway.
    likelihood : "auto" (Gaussian with a learned per-feature scale for tables, continuous Bernoulli for
        images), "gaussian", "gaussian-unit" (scale fixed to 1 on the scaled columns), "gaussian-decoder"
        (heteroscedastic) or "continuous-bernoulli" (images).
    binary_columns : "bernoulli" (default): a table's columns with two values in the training rows, and its
        one-hot categories, are 0/1 under a Bernoulli, the other columns under the Gaussian of ``likelihood``
        ("gaussian" or "gaussian-decoder"; with "gaussian-unit" every column is Gaussian); "gaussian": they
        are scaled and Gaussian like every numeric column.
    min_scale : lower bound of a learned Gaussian scale, in units of the scaled columns: how precise the
        model may claim a column's reconstruction to be.
    beta : KL weight of the training objective (beta-VAE, Higgins et al. 2017); beta > 1 pushes the model
        towards a collapsed posterior.
    latent_dim, hidden_dims, epochs, batch_size : None chooses them from the data's size and kind
        (``defaults``: 100 optimisation steps of 256 rows per fit for tables, about 3,000 for images).
    lr : Adam learning rate, cosine-annealed to zero over each fit; None: 0.01 for tables, 0.001 for images.
    n_models : an ensemble of independently seeded VAEs whose scores are averaged; None: 2 for tables, 1 for
        images.
    trim : fraction in [0, 0.5) of the training rows to leave out of a second fit: the rows the first fit
        scores lowest (a trimmed likelihood, robust to anomalies among the unlabelled training rows); 0
        fits once; None: 0.2 for tables, 0 for images.
    max_train_rows : fit on a seeded random subsample of this many rows when there are more (the fit's
        length does not grow with the data); None: every row.
    random_state : seeds weights, batches and score samples; fitting never changes the global RNGs.
    device : torch device for training and scoring.
    n_threads : torch intra-op threads while fitting and scoring (restored afterwards); None: 1 for tables
        (their small networks run fastest on one thread, several times faster on a busy machine), torch's
        setting for images.
    verbose : show the training progress.

    Attributes
    ----------
    offset_ : float, ``decision_function = score_samples - offset_``.
    n_train_rows_ : the number of rows the models were fitted on (at most ``max_train_rows``).
    models_ : the trained ``vaelab.VAE`` models.
    kl_per_dim_ : (n_models, latent_dim) mean KL per latent dimension on the training rows, nats.
    active_units_ : (n_models,) latent dimensions with Cov_x(E_q[z]) > 0.01; a PosteriorCollapseWarning is
        raised when a model has none.
    n_features_in_, feature_names_in_ : as in scikit-learn (tables).
    """

    def __init__(
        self,
        *,
        score_type: str = DEFAULT_SCORE,
        rate_weight: float | None = None,
        num_samples: int | None = None,
        contamination: str | float = "auto",
        scaling: str = "robust",
        missing: str = "error",
        categorical_columns: Sequence[int | str] | None = None,
        likelihood: str = "auto",
        binary_columns: str = "bernoulli",
        min_scale: float = 1e-3,
        beta: float = 1.0,
        latent_dim: int | None = None,
        hidden_dims: Sequence[int] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        n_models: int | None = None,
        trim: float | None = None,
        max_train_rows: int | None = defaults.MAX_TRAIN_ROWS,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        n_threads: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.score_type = score_type
        self.rate_weight = rate_weight
        self.num_samples = num_samples
        self.contamination = contamination
        self.scaling = scaling
        self.missing = missing
        self.categorical_columns = categorical_columns
        self.likelihood = likelihood
        self.binary_columns = binary_columns
        self.min_scale = min_scale
        self.beta = beta
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.n_models = n_models
        self.trim = trim
        self.max_train_rows = max_train_rows
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ API
    def fit(self, X: Any, y: Any = None) -> VAEDetector:
        """Fit the preprocessing and the VAE(s) on ``X`` (no labels; ``y`` is ignored)."""
        self._check_params()
        X = self._check_input(X, reset=True)
        check_min_rows(len(X))
        rng = check_random_state(self.random_state)
        X = self._training_rows(X, rng)
        images = not is_frame(X) and X.ndim > 2
        self.preprocessor_ = (
            ImagePreprocessor()
            if images
            else TabularPreprocessor(self.scaling, self.missing, self.categorical_columns, self._bernoulli_binary())
        ).fit(X)
        with torch_threads(self._threads()):
            self._fit_models(self.preprocessor_.transform(X), images, rng)
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """Per-row score, higher = more normal: the chosen ``score`` in nats, averaged over ``n_models``."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        with torch_threads(self._threads()):
            return self._score_model_space(self.preprocessor_.transform(X))

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers."""
        decision = self.decision_function(X)
        is_inlier = np.ones(len(decision), dtype=int)
        is_inlier[decision < 0] = -1
        return is_inlier

    def save(self, directory: str | Path) -> None:
        """Write the fitted detector into ``directory``: its models as safetensors, the rest as JSON; no pickle.

        A ``random_state`` that is a RandomState object is saved as None (the fit's seeds are saved anyway).
        ``directory`` must be new, empty or hold a saved detector (which is replaced)."""
        save_detector(self, directory)

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> VAEDetector:
        """A detector written by :meth:`save`, ready to score; reads JSON and safetensors only. ``device``
        (None: the saved ``device`` parameter) is where its models go."""
        return load_detector(cls, directory, device)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "impute"
        return tags

    # ------------------------------------------------------------- internals
    def _fit_models(self, x: np.ndarray, images: bool, rng: np.random.RandomState) -> None:
        build = functools.partial(
            build_vae, likelihood=self._likelihood(images), min_scale=self.min_scale, **self._architecture(x, images)
        )
        batch = self.batch_size or defaults.batch_size(len(x), images)
        settings = TrainSettings(
            epochs=self.epochs or defaults.epochs(len(x), batch, images),
            batch_size=batch,
            lr=self.lr or defaults.learning_rate(images),
            lr_schedule="cosine",
            grad_clip=GRAD_CLIP,
            device=self.device,
            progress=self.verbose,
        )
        n_models = defaults.models(images) if self.n_models is None else self.n_models
        self.seeds_ = [int(s) for s in rng.randint(0, np.iinfo(np.int32).max, size=n_models)]

        features = self._features()

        def train_all(rows: np.ndarray) -> list[VAE]:
            return [
                train_vae(rows, build, dataclasses.replace(settings, seed=s), self.beta, features) for s in self.seeds_
            ]

        self.models_ = train_all(x)
        trim = defaults.trim(images) if self.trim is None else self.trim
        if trim > 0:  # refit on the rows the first fit finds most normal (a trimmed likelihood)
            first_scores = self._score_model_space(x)
            self.models_ = train_all(x[first_scores >= np.quantile(first_scores, trim)])
        self._check_collapse(x)
        train_scores = self._score_model_space(x)
        if self.contamination == "auto":
            q1, q3 = np.percentile(train_scores, [25.0, 75.0])
            self.offset_ = float(q1 - TUKEY_FENCE * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(train_scores, 100.0 * float(self.contamination)))

    def _bernoulli_binary(self) -> bool:
        return self.binary_columns == "bernoulli" and self._likelihood(images=False) in BINARY_LIKELIHOODS

    def _features(self) -> tuple[Feature, ...] | None:
        """A table's model-space columns' kinds when some are 0/1 (for the columns likelihood), else None."""
        if not isinstance(self.preprocessor_, TabularPreprocessor):
            return None
        kinds = self.preprocessor_.model_kinds_
        if "binary" not in kinds:
            return None
        return tuple(Feature(str(j), kind, levels=2 if kind == "binary" else None) for j, kind in enumerate(kinds))

    def _training_rows(self, X: Any, rng: np.random.RandomState) -> Any:
        """``X``, or a random subsample of ``max_train_rows`` of its rows (in their order); sets ``n_train_rows_``."""
        if self.max_train_rows is not None and len(X) > self.max_train_rows:
            keep = np.sort(rng.choice(len(X), self.max_train_rows, replace=False))
            X = X.iloc[keep] if is_frame(X) else X[keep]
        self.n_train_rows_ = len(X)
        return X

    def _score_model_space(self, x: np.ndarray) -> np.ndarray:
        device = torch.device(self.device)
        tensor = torch.from_numpy(x).to(device)
        num_samples = self.num_samples or DEFAULT_SAMPLES[self.score_type]
        kl_weight = self.beta if self.score_type == "beta-elbo" else self._rate_weight()
        total = np.zeros(len(x), dtype=np.float64)
        for model, seed in zip(self.models_, self.seeds_, strict=True):
            eps = torch.randn((num_samples, model.latent_dim), generator=torch.Generator().manual_seed(seed))
            total += score_rows(model, tensor, self.score_type, eps.to(device), kl_weight).double().cpu().numpy()
        return total / len(self.models_)

    def _check_input(self, X: Any, reset: bool) -> Any:
        """A DataFrame as given, anything else as an ndarray; sets or checks the feature count and names."""
        try:
            if not is_frame(X):
                X = check_array(X, dtype=None, ensure_all_finite=False, allow_nd=True, estimator=self)
            if is_frame(X) or X.ndim == 2:
                validate_data(self, X, reset=reset, skip_check_array=True)
        except ValueError as error:  # scikit-learn's checks: no rows, no columns, another column count
            if isinstance(error, InvalidInput):
                raise
            message = one_line(error).rstrip(".")
            raise InvalidInput(f"{message}; give rows and columns like those the detector expects") from None
        if not (is_frame(X) or X.ndim == 2) and reset:
            for name in ("n_features_in_", "feature_names_in_"):
                if hasattr(self, name):
                    delattr(self, name)
        if not reset and isinstance(self.preprocessor_, ImagePreprocessor) == (is_frame(X) or X.ndim == 2):
            kind = "images" if isinstance(self.preprocessor_, ImagePreprocessor) else "tables (N, D)"
            raise InvalidInput(f"the detector was fitted on {kind}; got data of shape {np.shape(X)}")
        return X

    def _check_params(self) -> None:
        def positive_int(name: str, value: Any, optional: bool = True) -> None:
            if value is None and optional:
                return
            if not (isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1):
                raise InvalidInput(f"{name} must be a positive integer{' or None' if optional else ''}; got {value!r}")

        if self.score_type not in SCORES:
            raise InvalidInput(f"unknown score_type {self.score_type!r}; use one of: {', '.join(SCORES)}")
        contamination = self.contamination
        if contamination != "auto" and not (
            isinstance(contamination, Real) and not isinstance(contamination, bool) and 0 < contamination <= 0.5
        ):
            raise InvalidInput(f"contamination must be 'auto' or a fraction in (0, 0.5]; got {contamination!r}")
        if self.binary_columns not in ("bernoulli", "gaussian"):
            raise InvalidInput(f"binary_columns must be 'bernoulli' or 'gaussian'; got {self.binary_columns!r}")
        if self.likelihood != "auto" and self.likelihood not in LIKELIHOODS:
            raise InvalidInput(f"unknown likelihood {self.likelihood!r}; use auto or one of: {', '.join(LIKELIHOODS)}")
        for name in ("num_samples", "latent_dim", "epochs", "batch_size", "n_models", "n_threads", "max_train_rows"):
            positive_int(name, getattr(self, name))
        if self.hidden_dims is not None:
            if len(self.hidden_dims) == 0:
                raise InvalidInput("hidden_dims must hold at least one layer width, or be None")
            for width in self.hidden_dims:
                positive_int("each of hidden_dims", width, optional=False)
        trim = self.trim
        if trim is not None and not (isinstance(trim, Real) and not isinstance(trim, bool) and 0 <= trim < 0.5):
            raise InvalidInput(f"trim must be a fraction in [0, 0.5) or None; got {trim!r}")
        for name in ("lr", "beta", "min_scale", "rate_weight"):
            value = getattr(self, name)
            if value is None and name in ("lr", "rate_weight"):
                continue
            if not (isinstance(value, Real) and not isinstance(value, bool) and float(value) > 0):
                raise InvalidInput(f"{name} must be a positive number; got {value!r}")

    def _rate_weight(self) -> float:
        if self.rate_weight is not None:
            return float(self.rate_weight)
        return defaults.rate_weight(isinstance(self.preprocessor_, ImagePreprocessor))

    def _threads(self) -> int | None:
        if self.n_threads is not None:
            return self.n_threads
        return None if isinstance(self.preprocessor_, ImagePreprocessor) else 1

    def _likelihood(self, images: bool) -> str:
        if self.likelihood == "auto":
            return "continuous-bernoulli" if images else "gaussian"
        if self.likelihood == "continuous-bernoulli" and not images:
            raise InvalidInput("the continuous-bernoulli likelihood needs images in [0, 1]; use gaussian for tables")
        return self.likelihood

    def _architecture(self, x: np.ndarray, images: bool) -> dict[str, Any]:
        if images:
            return {
                "conv_channels": list(defaults.IMAGE_CHANNELS),
                "conv_hidden": defaults.IMAGE_HIDDEN,
                "latent_dim": self.latent_dim or defaults.IMAGE_LATENT,
            }
        num_features = x.shape[1]
        return {
            "hidden_dims": list(self.hidden_dims or defaults.table_hidden_dims(num_features)),
            "latent_dim": self.latent_dim or defaults.table_latent_dim(num_features),
        }

    def _check_collapse(self, x: np.ndarray) -> None:
        rows = torch.from_numpy(x[:DIAGNOSTIC_ROWS]).to(self.device)
        activity = [latent_activity(model, rows) for model in self.models_]
        self.kl_per_dim_ = np.stack([a.kl_per_dim for a in activity])
        self.active_units_ = np.array([a.active_units for a in activity])
        if (self.active_units_ == 0).any():
            warnings.warn(
                f"posterior collapse: no latent dimension is active (mean KL per dimension "
                f"{self.kl_per_dim_.mean():.2g} nats), so the VAE scores rows like a fit of each column alone; "
                "train longer (epochs=...) or check that the columns are related",
                PosteriorCollapseWarning,
                stacklevel=4,  # the caller of fit()
            )
