"""Save a fitted :class:`VAEClassifier` to a folder and load it back, reading only JSON and safetensors.

The folder holds the model (``model.json`` and ``model.safetensors``, through ``VAE.save``) and
``classifier.json``: a format tag and version, the classifier's ``get_params()``, its classes (as JSON values
with their numpy dtype), the likelihood, the standardisation of a Gaussian model's entries, the row shape, the
fit's seed and scikit-learn's feature count and names. Each file is written atomically and ``classifier.json``
last, after the previous one is removed, so a save that fails half-way leaves no folder that claims to hold a
complete classifier.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.atomic import atomic_write_text
from vaelab.data.download import one_line
from vaelab.errors import UserError
from vaelab.models.load import load as load_model

if TYPE_CHECKING:
    from vaelab.applications.semi_supervised.classifier import VAEClassifier

CLASSIFIER_FILE = "classifier.json"
FORMAT = "vaelab.classifier"
FORMAT_VERSION = 1
_HOW_TO_SAVE = "save one with VAEClassifier.save"


def save_classifier(classifier: VAEClassifier, directory: str | Path) -> None:
    """Write the fitted ``classifier`` into ``directory`` (created if need be; a saved classifier there is replaced)."""
    if not hasattr(classifier, "model_"):
        raise UserError("this VAEClassifier is not fitted yet: call fit(X, y) before save")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} is a file; give a folder to save the classifier into")
    try:
        text = json.dumps(_description(classifier), indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:  # a class JSON cannot hold (bytes, a tuple, NaN)
        raise UserError(f"the fitted classifier holds a value JSON cannot store ({one_line(error)})") from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CLASSIFIER_FILE).unlink(missing_ok=True)  # until the new one is written, the folder is no classifier
    classifier.model_.save(directory)
    atomic_write_text(directory / CLASSIFIER_FILE, text)


def _description(classifier: VAEClassifier) -> dict[str, Any]:
    """What ``classifier.json`` holds, as JSON types."""
    params = classifier.get_params()
    description: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": {name: _json_param(value) for name, value in params.items()},
        "tuple_params": sorted(name for name, value in params.items() if isinstance(value, tuple)),
        "classes": classifier.classes_.tolist(),
        "classes_dtype": classifier.classes_.dtype.str if classifier.classes_.dtype != object else "object",
        "likelihood": classifier.likelihood_,
        "loc": None if classifier.loc_ is None else classifier.loc_.tolist(),
        "scale": None if classifier.scale_ is None else classifier.scale_.tolist(),
        "data_shape": list(classifier.data_shape_),
        "seed": classifier.seed_,
    }
    if hasattr(classifier, "n_features_in_"):
        description["n_features_in"] = int(classifier.n_features_in_)
    if hasattr(classifier, "feature_names_in_"):
        description["feature_names_in"] = [str(name) for name in classifier.feature_names_in_]
    return description


def _json_param(value: Any) -> Any:
    """A parameter as JSON types: tuples as lists, numpy scalars as numbers, a RandomState as None (the fit's
    seed is saved anyway)."""
    if isinstance(value, np.random.RandomState):
        return None
    if isinstance(value, tuple | list):
        return [_json_param(item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def load_classifier(cls: type[VAEClassifier], directory: str | Path, device: str | None = None) -> VAEClassifier:
    """The classifier saved in ``directory``; ``device`` (None: the saved ``device`` parameter) holds its model."""
    directory = Path(directory)
    path = directory / CLASSIFIER_FILE
    description = _read_description(path)
    try:
        return _rebuild(cls, description, directory, device)
    except UserError as error:  # a damaged model folder, a parameter the classifier rejects
        raise UserError(f"{path}: cannot load the saved classifier: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        reason = f"it has no {error.args[0]!r} entry" if isinstance(error, KeyError) else one_line(error)
        raise UserError(f"{path} is damaged ({reason}); save the classifier again") from None


def _read_description(path: Path) -> dict[str, Any]:
    """``classifier.json`` with its format and version checked."""
    if not path.parent.is_dir():
        raise UserError(f"no such folder: {path.parent}; give the folder a classifier was saved into")
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{path.parent} holds no saved classifier ({CLASSIFIER_FILE} is missing); {_HOW_TO_SAVE}"
        ) from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read a saved classifier ({one_line(error)}); {_HOW_TO_SAVE}") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise UserError(f"{path} is not a saved VAEClassifier; {_HOW_TO_SAVE}")
    version = description.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise UserError(
            f"{path}: classifier format {version!r}; this vaelab reads up to {FORMAT_VERSION}: upgrade vaelab "
            "to load it"
        )
    return description


def _rebuild(
    cls: type[VAEClassifier], description: dict[str, Any], directory: Path, device: str | None
) -> VAEClassifier:
    """The fitted classifier ``description`` describes, its model read from ``directory``."""
    params = description["params"]
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise UserError(f"this vaelab's VAEClassifier has no parameter {unknown[0]!r}; save it with this vaelab")
    tuples = set(description["tuple_params"])
    params = {name: tuple(v) if name in tuples and v is not None else v for name, v in params.items()}
    if device is not None:
        params["device"] = device
    classifier = cls(**params)
    classifier._check_params()
    classifier.classes_ = np.array(description["classes"], dtype=np.dtype(description["classes_dtype"]))
    classifier.likelihood_ = str(description["likelihood"])
    for name in ("loc", "scale"):
        value = description[name]
        setattr(classifier, f"{name}_", None if value is None else np.array(value, dtype=np.float64))
    classifier.data_shape_ = tuple(int(s) for s in description["data_shape"])
    classifier.seed_ = int(description["seed"])
    if "n_features_in" in description:
        classifier.n_features_in_ = int(description["n_features_in"])
    if "feature_names_in" in description:
        classifier.feature_names_in_ = np.array([str(n) for n in description["feature_names_in"]], dtype=object)
    classifier.model_ = load_model(directory, device=classifier.device)
    if classifier.model_.num_classes != len(classifier.classes_):
        raise ValueError(
            f"the model has {classifier.model_.num_classes} classes, classifier.json {len(classifier.classes_)}"
        )
    return classifier
