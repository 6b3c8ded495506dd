"""Save a fitted :class:`VAEDetector` to a folder and load it back, reading only JSON and safetensors.

A saved detector is a folder of ``model-0/``, ``model-1/``, ... (each a ``VAE.save`` folder: ``model.json``
and ``model.safetensors``) and ``detector.json``: a format tag and version, the detector's ``get_params()``,
the preprocessor's kind and fitted state, the threshold, the seeds of the score's samples, the latent
diagnostics and the feature count and names. Each file is written atomically and ``detector.json`` last,
after the previous one is removed, so a save that fails half-way leaves no folder that claims to hold a
complete detector.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vaelab.applications.anomaly.images import ImagePreprocessor
from vaelab.applications.anomaly.preprocessing import TabularPreprocessor
from vaelab.atomic import TEMPORARY_SUFFIX, atomic_write_text
from vaelab.data.download import one_line
from vaelab.errors import UserError
from vaelab.models.load import load as load_model

if TYPE_CHECKING:
    from vaelab.applications.anomaly.detector import VAEDetector

DETECTOR_FILE = "detector.json"
FORMAT = "vaelab.detector"
FORMAT_VERSION = 1
PREPROCESSORS: dict[str, type[TabularPreprocessor] | type[ImagePreprocessor]] = {
    "table": TabularPreprocessor,
    "image": ImagePreprocessor,
}
"""The preprocessor's kind in ``detector.json`` -> its class (each has ``state`` and ``from_state``)."""
_MODEL_FOLDER = re.compile(r"model-\d+")
_HOW_TO_SAVE = "save one with VAEDetector.save or vaelab detect --save"


def check_save_target(directory: Path) -> None:
    """Refuse a folder that holds anything but a saved (or half-saved) detector, which saving would mix into."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} is a file; give a folder to save the detector into")
    if directory.is_dir() and not all(_is_detector_entry(entry) for entry in directory.iterdir()):
        raise UserError(
            f"{directory} is not empty and holds no saved detector; give a new or empty folder (an existing "
            "saved detector is overwritten)"
        )


def _is_detector_entry(entry: Path) -> bool:
    """A file or folder a saved detector's folder holds (a write killed half-way may leave a temporary file)."""
    if entry.is_dir():
        return bool(_MODEL_FOLDER.fullmatch(entry.name))
    return entry.name == DETECTOR_FILE or (
        entry.name.startswith(f".{DETECTOR_FILE}.") and entry.name.endswith(TEMPORARY_SUFFIX)
    )


def save_detector(detector: VAEDetector, directory: str | Path) -> None:
    """Write the fitted ``detector`` into ``directory`` (created if need be; a saved detector there is replaced)."""
    if not hasattr(detector, "models_"):
        raise UserError("this VAEDetector is not fitted yet: call fit(X) before save")
    directory = Path(directory)
    check_save_target(directory)
    try:
        text = json.dumps(_description(detector), indent=2, allow_nan=False)
    except ValueError as error:  # NaN or infinity: JSON has no such numbers
        raise UserError(f"the fitted detector holds a value JSON cannot store ({error}); fit it again") from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DETECTOR_FILE).unlink(missing_ok=True)  # until the new one is written, the folder is no detector
    for k, model in enumerate(detector.models_):
        model.save(directory / f"model-{k}")
    for stale in directory.iterdir():  # models of an earlier, larger ensemble saved here
        if _MODEL_FOLDER.fullmatch(stale.name) and int(stale.name[len("model-") :]) >= len(detector.models_):
            shutil.rmtree(stale)
    atomic_write_text(directory / DETECTOR_FILE, text)


def _description(detector: VAEDetector) -> dict[str, Any]:
    """What ``detector.json`` holds, as JSON types."""
    preprocessor = detector.preprocessor_
    kind = next(name for name, cls in PREPROCESSORS.items() if isinstance(preprocessor, cls))
    params = detector.get_params()
    description = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": {name: _json_param(name, value) for name, value in params.items()},
        "tuple_params": sorted(name for name, value in params.items() if isinstance(value, tuple)),
        "preprocessor": {"kind": kind, "state": preprocessor.state()},
        "models": [f"model-{k}" for k in range(len(detector.models_))],
        "offset": float(detector.offset_),
        "seeds": [int(seed) for seed in detector.seeds_],
        "kl_per_dim": np.asarray(detector.kl_per_dim_, dtype=np.float64).tolist(),
        "active_units": np.asarray(detector.active_units_).astype(int).tolist(),
    }
    if hasattr(detector, "n_features_in_"):
        description["n_features_in"] = int(detector.n_features_in_)
    if hasattr(detector, "feature_names_in_"):
        description["feature_names_in"] = [str(name) for name in detector.feature_names_in_]
    return description


def _json_param(name: str, value: Any) -> Any:
    """A parameter as JSON types: tuples and arrays as lists, numpy scalars as numbers, a RandomState as None."""
    if isinstance(value, np.random.RandomState):
        return None  # its state is not a parameter a JSON file can hold; the fit's seeds are saved anyway
    if isinstance(value, tuple | list | np.ndarray):
        return [_json_param(name, item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise UserError(f"parameter {name}={value!r} cannot be saved as JSON; set it to a number, text or a list")


def load_detector(cls: type[VAEDetector], directory: str | Path, device: str | None = None) -> VAEDetector:
    """The detector saved in ``directory``; ``device`` (None: the saved ``device`` parameter) holds its models."""
    directory = Path(directory)
    path = directory / DETECTOR_FILE
    description = _read_description(path)
    try:
        return _rebuild(cls, description, directory, device)
    except UserError as error:  # a damaged model folder, a parameter the detector rejects
        raise UserError(f"{path}: cannot load the saved detector: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        reason = f"it has no {error.args[0]!r} entry" if isinstance(error, KeyError) else one_line(error)
        raise UserError(f"{path} is damaged ({reason}); save the detector again") from None


def _read_description(path: Path) -> dict[str, Any]:
    """``detector.json`` with its format and version checked."""
    if not path.parent.is_dir():
        raise UserError(f"no such folder: {path.parent}; give the folder a detector was saved into")
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path.parent} holds no saved detector ({DETECTOR_FILE} is missing); {_HOW_TO_SAVE}") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read a saved detector ({one_line(error)}); {_HOW_TO_SAVE}") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise UserError(f"{path} is not a saved VAEDetector; {_HOW_TO_SAVE}")
    version = description.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise UserError(f"{path}: format_version is {version!r}, not an integer; save the detector again")
    if version > FORMAT_VERSION:
        raise UserError(
            f"{path} was written by a newer vaelab (detector format {version}; this one reads up to "
            f"{FORMAT_VERSION}); upgrade vaelab to load it"
        )
    return description


def _rebuild(cls: type[VAEDetector], description: dict[str, Any], directory: Path, device: str | None) -> VAEDetector:
    """The fitted detector ``description`` describes, its models read from ``directory``."""
    params = _params(cls, description)
    if device is not None:
        params["device"] = device
    detector = cls(**params)
    detector._check_params()
    preprocessor = description["preprocessor"]
    if preprocessor["kind"] not in PREPROCESSORS:
        raise ValueError(f"unknown preprocessor kind {preprocessor['kind']!r}")
    detector.preprocessor_ = PREPROCESSORS[preprocessor["kind"]].from_state(preprocessor["state"])
    detector.offset_ = float(description["offset"])
    detector.seeds_ = [int(seed) for seed in description["seeds"]]
    detector.kl_per_dim_ = np.array(description["kl_per_dim"], dtype=np.float64)
    detector.active_units_ = np.array(description["active_units"], dtype=np.int64)
    if "n_features_in" in description:
        detector.n_features_in_ = int(description["n_features_in"])
    if "feature_names_in" in description:
        detector.feature_names_in_ = np.array([str(name) for name in description["feature_names_in"]], dtype=object)
    _check_device(detector.device)
    detector.models_ = [
        load_model(directory / _model_folder(name), device=detector.device) for name in description["models"]
    ]
    _check_consistent(detector)
    return detector


def _params(cls: type[VAEDetector], description: dict[str, Any]) -> dict[str, Any]:
    """The saved parameters, tuples restored; one this VAEDetector does not take is an error."""
    params = description["params"]
    if not isinstance(params, dict):
        raise TypeError(f"params is a {type(params).__name__}, not an object")
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise UserError(
            f"this vaelab's VAEDetector has no parameter {unknown[0]!r}; save the detector with this vaelab"
        )
    return {
        name: tuple(value) if name in description["tuple_params"] and value is not None else value
        for name, value in params.items()
    }


def _check_device(device: str) -> None:
    """A device this machine has (a detector saved on a GPU may be loaded onto the CPU)."""
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise UserError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"the detector's device is {device!r}, but this machine has no CUDA GPU; load it with device='cpu' "
            "(vaelab detect --device cpu)"
        )


def _model_folder(name: Any) -> str:
    if not (isinstance(name, str) and _MODEL_FOLDER.fullmatch(name)):
        raise ValueError(f"{name!r} is not a model folder (model-0, model-1, ...)")
    return name


def _check_consistent(detector: VAEDetector) -> None:
    """The models, seeds and preprocessor belong together: one seed per model, rows of the preprocessor's shape."""
    models, preprocessor = detector.models_, detector.preprocessor_
    if not models or len(models) != len(detector.seeds_):
        raise ValueError(f"{len(models)} models but {len(detector.seeds_)} seeds")
    shape = (
        preprocessor.data_shape_ if isinstance(preprocessor, ImagePreprocessor) else (preprocessor.num_model_features_,)
    )
    for k, model in enumerate(models):
        if tuple(model.data_shape) != tuple(shape):
            raise ValueError(
                f"model {k} takes rows of shape {tuple(model.data_shape)}, the preprocessor makes {tuple(shape)}"
            )
