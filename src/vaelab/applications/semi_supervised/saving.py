"""Save a fitted :class:`ArrayVAE` (``VAEClassifier``, ``VAEEncoder``) to a folder and load it back, reading only
JSON and safetensors.

The folder holds the model (``model.json`` and ``model.safetensors``, through ``VAE.save``) and the estimator's
file (``classifier.json``, ``encoder.json``: its ``saved_file``): a format tag (``saved_format``) and version, the
estimator's ``get_params()``, the likelihood, the standardisation of a Gaussian model's entries, the row shape, the
fit's seed, scikit-learn's feature count and names, and what the estimator adds (``_saved_state``, e.g. the
classes, read back by ``_restore``). Each file is written atomically and the estimator's file last, after the
previous one is removed, so a save that fails half-way leaves no folder that claims to hold a complete estimator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from vaelab.atomic import atomic_write_text
from vaelab.data.download import one_line
from vaelab.errors import UserError
from vaelab.models.load import load as load_model

if TYPE_CHECKING:
    from vaelab.applications.semi_supervised.array_vae import ArrayVAE

FORMAT_VERSION = 1
Estimator = TypeVar("Estimator", bound="ArrayVAE")


def save_estimator(estimator: ArrayVAE, directory: str | Path) -> None:
    """Write the fitted ``estimator`` into ``directory`` (created if need be; one saved there is replaced)."""
    name, noun = type(estimator).__name__, estimator.noun
    if not hasattr(estimator, "model_"):
        raise UserError(f"this {name} is not fitted yet: call fit before save")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} is a file; give a folder to save the {noun} into")
    try:
        text = json.dumps(_description(estimator), indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:  # a class JSON cannot hold (bytes, a tuple, NaN)
        raise UserError(f"the fitted {noun} holds a value JSON cannot store ({one_line(error)})") from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / estimator.saved_file).unlink(missing_ok=True)  # until the new one is written, no estimator here
    estimator.model_.save(directory)
    atomic_write_text(directory / estimator.saved_file, text)


def _description(estimator: ArrayVAE) -> dict[str, Any]:
    """What the estimator's file holds, as JSON types."""
    params = estimator.get_params()
    description: dict[str, Any] = {
        "format": estimator.saved_format,
        "format_version": FORMAT_VERSION,
        "params": {name: _json_param(value) for name, value in params.items()},
        "tuple_params": sorted(name for name, value in params.items() if isinstance(value, tuple)),
        **estimator._saved_state(),
        "likelihood": estimator.likelihood_,
        "loc": None if estimator.loc_ is None else estimator.loc_.tolist(),
        "scale": None if estimator.scale_ is None else estimator.scale_.tolist(),
        "data_shape": list(estimator.data_shape_),
        "seed": estimator.seed_,
    }
    if hasattr(estimator, "n_features_in_"):
        description["n_features_in"] = int(estimator.n_features_in_)
    if hasattr(estimator, "feature_names_in_"):
        description["feature_names_in"] = [str(name) for name in estimator.feature_names_in_]
    return description


def _json_param(value: Any) -> Any:
    """A parameter as JSON types: tuples as lists, numpy scalars as numbers, a RandomState as None (the fit's
    seed is saved anyway)."""
    if isinstance(value, np.random.RandomState):
        return None
    if isinstance(value, tuple | list):
        return [_json_param(item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def load_estimator(cls: type[Estimator], directory: str | Path, device: str | None = None) -> Estimator:
    """The ``cls`` saved in ``directory``; ``device`` (None: the saved ``device`` parameter) holds its model."""
    directory = Path(directory)
    path = directory / cls.saved_file
    description = _read_description(cls, path)
    try:
        return _rebuild(cls, description, directory, device)
    except UserError as error:  # a damaged model folder, a parameter the estimator rejects
        raise UserError(f"{path}: cannot load the saved {cls.noun}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        reason = f"it has no {error.args[0]!r} entry" if isinstance(error, KeyError) else one_line(error)
        raise UserError(f"{path} is damaged ({reason}); save the {cls.noun} again") from None


def _read_description(cls: type[ArrayVAE], path: Path) -> dict[str, Any]:
    """The estimator's file with its format and version checked."""
    how_to_save = f"save one with {cls.__name__}.save"
    if not path.parent.is_dir():
        raise UserError(f"no such folder: {path.parent}; give the folder a {cls.noun} was saved into")
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{path.parent} holds no saved {cls.noun} ({cls.saved_file} is missing); {how_to_save}"
        ) from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read a saved {cls.noun} ({one_line(error)}); {how_to_save}") from None
    if not isinstance(description, dict) or description.get("format") != cls.saved_format:
        raise UserError(f"{path} is not a saved {cls.__name__}; {how_to_save}")
    version = description.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise UserError(
            f"{path}: {cls.noun} format {version!r}; this vaelab reads up to {FORMAT_VERSION}: upgrade vaelab "
            "to load it"
        )
    return description


def _rebuild(cls: type[Estimator], description: dict[str, Any], directory: Path, device: str | None) -> Estimator:
    """The fitted estimator ``description`` describes, its model read from ``directory``."""
    params = description["params"]
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise UserError(f"this vaelab's {cls.__name__} has no parameter {unknown[0]!r}; save it with this vaelab")
    tuples = set(description["tuple_params"])
    params = {name: tuple(v) if name in tuples and v is not None else v for name, v in params.items()}
    if device is not None:
        params["device"] = device
    estimator = cls(**params)
    estimator._check_params()
    estimator.likelihood_ = str(description["likelihood"])
    for name in ("loc", "scale"):
        value = description[name]
        setattr(estimator, f"{name}_", None if value is None else np.array(value, dtype=np.float64))
    estimator.data_shape_ = tuple(int(s) for s in description["data_shape"])
    estimator.seed_ = int(description["seed"])
    if "n_features_in" in description:
        estimator.n_features_in_ = int(description["n_features_in"])
    if "feature_names_in" in description:
        estimator.feature_names_in_ = np.array([str(n) for n in description["feature_names_in"]], dtype=object)
    estimator.model_ = load_model(directory, device=estimator.device)
    estimator._restore(description)
    return estimator
