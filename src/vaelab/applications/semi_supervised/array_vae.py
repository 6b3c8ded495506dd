"""What :class:`VAEClassifier` (M2) and :class:`VAEEncoder` (M1) share: a VAE over arrays as a scikit-learn estimator.

:class:`ArrayVAE` holds their parameters' checks, the input handling (arrays ``(N, D)``, numeric DataFrames,
images ``(N, C, H, W)``, checked as scikit-learn checks them), the likelihood chosen from the training values with
the standardisation of a Gaussian model's entries, the model's spec, the training, and gradient-free evaluation
on ``threads`` threads with the caller's random state left alone. Saving is :mod:`.saving`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar, Self, TypeGuard

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from vaelab.applications.anomaly.preprocessing import is_frame
from vaelab.applications.anomaly.training import isolated_global_rng, torch_threads
from vaelab.applications.anomaly.validation import InvalidInput, InvalidInputType
from vaelab.applications.imputation.sampling import seeded_sampling
from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import one_line
from vaelab.models import VAE
from vaelab.models.build import auto_likelihood, build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.objectives.base import Objective
from vaelab.training import TrainSettings, fit

CHUNK_ROWS = 4096  # rows per pass when predicting, transforming or sampling


class ArrayVAE(BaseEstimator):
    """The shared half of a scikit-learn estimator over one VAE trained on arrays. A subclass names itself
    (``noun``: "classifier", "encoder") and its saved file and format (``saved_file``, ``saved_format``), stores
    the parameters below in its ``__init__`` and adds its own.

    Parameters read here: ``latent_dim``, ``hidden_dims``, ``epochs``, ``batch_size``, ``lr``, ``max_minutes``,
    ``random_state``, ``threads``, ``device``, ``verbose``.

    Fitted attributes set here: ``model_``, ``likelihood_``, ``loc_``, ``scale_`` (the standardisation of a
    Gaussian model's entries, ``(prod(data_shape_),)``, else None), ``data_shape_``, ``seed_``, and scikit-learn's
    ``n_features_in_``, ``feature_names_in_`` (tables).
    """

    noun: ClassVar[str]
    saved_file: ClassVar[str]
    saved_format: ClassVar[str]

    latent_dim: int
    hidden_dims: tuple[int, ...]
    epochs: int
    batch_size: int
    lr: float
    max_minutes: float | None
    random_state: int | np.random.RandomState | None
    threads: int | None
    device: str
    verbose: bool

    model_: VAE
    likelihood_: str
    loc_: np.ndarray | None
    scale_: np.ndarray | None
    data_shape_: tuple[int, ...]
    seed_: int

    # ------------------------------------------------------------- fitting
    def _check_params(self) -> None:
        """One-line errors for parameters out of range (checked at ``fit`` and ``load``, as scikit-learn asks)."""
        for name in ("latent_dim", "epochs", "batch_size"):
            if not positive_int(getattr(self, name)):
                raise InvalidInput(f"{name} must be a positive integer; got {getattr(self, name)!r}")
        if self.threads is not None and not positive_int(self.threads):
            raise InvalidInput(f"threads must be a positive integer or None; got {self.threads!r}")
        widths = self.hidden_dims
        if isinstance(widths, str | bytes) or not np.iterable(widths) or not widths:
            raise InvalidInput(f"hidden_dims must be a tuple of layer widths such as (500,); got {widths!r}")
        if not all(positive_int(width) for width in widths):
            raise InvalidInput(f"hidden_dims must hold positive integers; got {widths!r}")
        for name, value, optional in (("lr", self.lr, False), ("max_minutes", self.max_minutes, True)):
            if not ((value is None and optional) or (is_number(value) and value > 0)):
                raise InvalidInput(f"{name} must be a positive number{' or None' if optional else ''}; got {value!r}")

    def _dataset(self, x: np.ndarray, codes: np.ndarray | None = None, num_classes: int | None = None) -> ArrayDataset:
        """The training rows ``x`` in model space, with class indices ``codes`` (-1: unlabelled) of
        ``num_classes`` classes if given; chooses the likelihood (``auto_likelihood``: 0/1 values -> Bernoulli,
        values in [0, 1] -> continuous Bernoulli, else Gaussian) and, for a Gaussian, the standardisation of each
        entry (``loc_``, ``scale_``: the training mean and standard deviation, 1 where constant)."""
        name = type(self).__name__
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        levels = 2 if binary else None
        self.likelihood_ = auto_likelihood(ArrayDataset(x, None, levels, name))[0]
        self.loc_ = self.scale_ = None
        if self.likelihood_ == "gaussian":
            flat = x.reshape(len(x), -1)
            self.loc_ = flat.mean(axis=0)
            scale = flat.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        stored = x.astype(np.uint8) if binary else self._model_space(x)
        return ArrayDataset(stored, codes, levels, name, num_classes=num_classes)

    def _model_config(self, preset: str, **parts: Any) -> ModelConfig:
        """The model's spec for ``preset`` with its parts named here (applications do not read the presets):
        a Gaussian posterior, a standard normal prior, the MLP of ``hidden_dims`` (conv nets for images of 32
        pixels a side and more, which drop the widths), the chosen likelihood, and ``parts`` besides."""
        return ModelConfig.model_validate(
            {
                "preset": preset,
                "prior": "standard-normal",
                "posterior": "gaussian",
                "latent_dim": self.latent_dim,
                "network": {"name": "auto", "hidden_dims": list(self.hidden_dims)},
                "likelihood": self.likelihood_,
                **parts,
            }
        )

    def _train(
        self, config: ModelConfig, objective: Objective, data: ArrayDataset, conditional: bool = False, **settings: Any
    ) -> None:
        """Draw the fit's seed (``seed_``) from ``random_state``, build the model of ``config`` for ``data``
        (``conditional``: on its labels) and train it on ``objective`` with Adam; ``settings``: further
        ``TrainSettings`` fields."""
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = torch.device(self.device)
        with torch_threads(self.threads), isolated_global_rng(device):
            torch.manual_seed(self.seed_)
            self.model_ = build_model(resolve_spec(config, data, conditional=conditional))
            train = TrainSettings(
                epochs=self.epochs,
                batch_size=min(self.batch_size, len(data)),
                lr=self.lr,
                seed=self.seed_,
                device=self.device,
                progress=self.verbose,
                log_every=10**9,
                max_minutes=self.max_minutes,
                **settings,
            )
            fit(self.model_, objective, data, None, train)

    # ---------------------------------------------------------- save, load
    def save(self, directory: str | Path) -> None:
        """Write the fitted estimator into ``directory``: the model as safetensors and JSON (``VAE.save``), then
        ``saved_file``; no pickle (:mod:`.saving`)."""
        from vaelab.applications.semi_supervised.saving import save_estimator

        save_estimator(self, directory)

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> Self:
        """An estimator written by :meth:`save`, reading JSON and safetensors only; ``device`` (None: the saved
        ``device`` parameter) holds its model."""
        from vaelab.applications.semi_supervised.saving import load_estimator

        return load_estimator(cls, directory, device)

    def _saved_state(self) -> dict[str, Any]:
        """What a subclass saves besides the shared fitted attributes, as JSON types."""
        return {}

    def _restore(self, state: dict[str, Any]) -> None:
        """Read back what ``_saved_state`` saved, the model already loaded; ValueError when it does not fit."""

    # --------------------------------------------------------------- input
    def _array(self, X: Any, reset: bool) -> np.ndarray:
        """``X`` as float64 ``(N, *row shape)``, checked as scikit-learn checks it (and against the fit's
        feature count, names and row shape when not ``reset``)."""
        if not reset:
            check_is_fitted(self)
        with sklearn_errors():
            x = X if is_frame(X) else check_array(X, allow_nd=True, dtype=np.float64)
            if is_frame(x) or x.ndim == 2:
                x = validate_data(self, x, reset=reset, dtype=np.float64)
            else:
                if x.ndim != 4:
                    raise InvalidInput(f"X must be a table (N, D) or images (N, C, H, W), not shaped {x.shape}")
                if reset:
                    for name in ("n_features_in_", "feature_names_in_"):
                        if hasattr(self, name):
                            delattr(self, name)
        if reset:
            self.data_shape_ = tuple(int(s) for s in x.shape[1:])
        elif tuple(x.shape[1:]) != self.data_shape_:
            raise InvalidInput(
                f"X has rows of shape {tuple(x.shape[1:])}; the {self.noun} was fitted on {self.data_shape_}"
            )
        return x

    def _model_space(self, x: np.ndarray) -> np.ndarray:
        """Rows in the user's units -> float32 rows the model reads (standardised for a Gaussian model)."""
        if self.loc_ is not None and self.scale_ is not None:
            x = ((x.reshape(len(x), -1) - self.loc_) / self.scale_).reshape(x.shape)
        return np.ascontiguousarray(x, dtype=np.float32)

    def _user_units(self, x: torch.Tensor) -> np.ndarray:
        """Rows ``(n, ...)`` in model space -> float64 rows ``(n, *data_shape_)`` in the units of the training X."""
        n = len(x)
        flat = x.double().cpu().numpy().reshape(n, -1)
        if self.loc_ is not None and self.scale_ is not None:
            flat = flat * self.scale_ + self.loc_
        return flat.reshape(n, *self.data_shape_)

    def _tensor(self, X: Any) -> torch.Tensor:
        return torch.from_numpy(self._model_space(self._array(X, reset=False))).to(self._device())

    def _device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _inference(self, seed: int | None = None) -> AbstractContextManager[None]:
        """Gradient-free evaluation mode on ``threads`` threads, leaving the caller's random state alone."""
        return seeded_sampling(self.model_, self.seed_ if seed is None else seed, self.threads)


def positive_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1


def is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


@contextmanager
def sklearn_errors() -> Iterator[None]:
    """scikit-learn's input checks' errors as one-line ``UserError`` s of the same type (``ValueError``,
    ``TypeError``), which scikit-learn's conventions expect."""
    try:
        yield
    except (InvalidInput, InvalidInputType):
        raise
    except ValueError as error:
        raise InvalidInput(one_line(error)) from None
    except TypeError as error:
        raise InvalidInputType(one_line(error)) from None
