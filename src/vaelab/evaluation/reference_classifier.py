"""The reference classifier: a small network that vaelab trains itself on a dataset, whose penultimate
layer is the feature space of the sample-quality metrics.

It plays the part Inception-v3 plays for FID (Heusel et al. 2017), which needs downloaded weights that
these machines cannot reach; a classifier trained on the dataset itself is the usual substitute for
MNIST-like data. Features are ``FEATURES`` ReLU units: a ``ConvEncoder`` for images, an ``MLP`` otherwise.

Labels: the dataset's class labels when it has them. A dataset without class labels (e.g.
``binarized-mnist``, or condition vectors) gets **pseudo-labels from k-means** (``pseudo_classes``
clusters of the flattened training examples, scikit-learn's ``KMeans`` with a fixed seed): the features
then separate the data's natural clusters, which is what a Fréchet distance needs, and the report says
so. Figures are comparable only between evaluations that use the same classifier (same data, settings
and therefore the same cache file).

The trained weights are cached as safetensors (never pickle) under ``cache_dir``, named by a SHA-256 of
the training data and settings, so every run on the same dataset is measured with the same features.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from vaelab.atomic import atomic_write
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.download import default_cache_dir
from vaelab.errors import UserError
from vaelab.evaluation.inputs import EVAL_BATCH
from vaelab.nn import MLP, ConvEncoder

FORMAT = "vaelab.reference-classifier"
FORMAT_VERSION = 1
FEATURES = 128
CONV_CHANNELS = (32, 64)
MLP_HIDDEN = (256,)
HOLDOUT_FRACTION = 0.1


def default_classifier_dir() -> Path:
    """``<vaelab cache>/reference-classifiers`` (``$XDG_CACHE_HOME/vaelab`` or ``~/.cache/vaelab``)."""
    return default_cache_dir() / "reference-classifiers"


@dataclass(frozen=True)
class ClassifierSettings:
    steps: int = 1500  # optimisation steps (whole epochs, at least this many steps)
    batch_size: int = 128
    lr: float = 1e-3
    max_examples: int = 20_000  # a seeded random subset of the training split, 10% of it held out
    pseudo_classes: int = 10  # k-means clusters when the data have no class labels
    seed: int = 0


class ReferenceClassifier(nn.Module):
    """``(B, *data_shape) -> (B, num_classes)`` logits; :meth:`features` gives the penultimate layer."""

    def __init__(self, data_shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.body: nn.Module = (
            ConvEncoder(data_shape, CONV_CHANNELS, FEATURES)
            if len(data_shape) == 3
            else MLP(data_shape, MLP_HIDDEN, (FEATURES,), final_activation=True)
        )
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    @torch.inference_mode()
    def features(self, x: torch.Tensor) -> np.ndarray:
        """Penultimate-layer features of model-space data ``x`` (N, *data_shape) -> float64 (N, FEATURES)."""
        device = next(self.parameters()).device
        parts = [self.body(x[s : s + EVAL_BATCH].to(device)).double().cpu() for s in range(0, len(x), EVAL_BATCH)]
        return torch.cat(parts).numpy()


@dataclass(frozen=True)
class TrainedClassifier:
    network: ReferenceClassifier
    info: dict[str, Any]  # labels, num_classes, holdout_accuracy, train_examples, data_shape, dataset, path


def reference_classifier(
    train: ArrayDataset, cache_dir: Path | None = None, settings: ClassifierSettings = ClassifierSettings()
) -> TrainedClassifier:
    """The classifier for ``train`` (the dataset's training split): loaded from ``cache_dir`` (default
    :func:`default_classifier_dir`) when cached, else trained and cached."""
    cache_dir = default_classifier_dir() if cache_dir is None else cache_dir
    path = cache_dir / f"{_slug(train.name)}-{_cache_key(train, settings)}.safetensors"
    if path.is_file():
        return _load(path)
    network, info = _train(train, settings)
    info["path"] = str(path)
    state = {k: v.detach().contiguous().cpu() for k, v in network.state_dict().items()}
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "info": json.dumps(info)}
    try:
        atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))
    except OSError as error:
        raise UserError(
            f"cannot write the reference classifier to {path} ({error}); pass another --cache-dir"
        ) from None
    return TrainedClassifier(network.eval(), info)


def _class_labels(data: ArrayDataset) -> np.ndarray | None:
    """Integer class labels (N,), or None when the data have none (no labels, or condition vectors)."""
    if data.y is None or data.y.ndim != 1:
        return None
    return data.y.astype(np.int64)


def _train(train: ArrayDataset, settings: ClassifierSettings) -> tuple[ReferenceClassifier, dict[str, Any]]:
    rng = np.random.default_rng(settings.seed)
    index = rng.permutation(len(train))[: settings.max_examples]
    x = train.x[index]
    labels = _class_labels(train)
    if labels is not None:
        y, source = labels[index], "classes"
    else:
        if len(x) < 2 * settings.pseudo_classes:
            raise UserError(
                f"{train.name}: {len(x)} training examples are too few to train the reference classifier on "
                f"{settings.pseudo_classes} k-means pseudo-labels; use a larger dataset"
            )
        flat = to_model_space(torch.from_numpy(x), train.levels).reshape(len(x), -1).numpy()
        from sklearn.cluster import KMeans  # lazily: scikit-learn slows every CLI start by about a second

        kmeans = KMeans(n_clusters=settings.pseudo_classes, n_init=3, random_state=settings.seed)
        y, source = kmeans.fit_predict(flat).astype(np.int64), f"k-means pseudo-labels (k={settings.pseudo_classes})"
    num_classes = int(y.max()) + 1
    n_holdout = max(1, math.ceil(HOLDOUT_FRACTION * len(x)))
    if len(x) - n_holdout < 1:
        raise UserError(f"{train.name}: too few training examples ({len(x)}) to train the reference classifier")
    x_fit, y_fit = x[n_holdout:], torch.from_numpy(y[n_holdout:])
    with torch.random.fork_rng():
        torch.manual_seed(settings.seed)
        network = ReferenceClassifier(train.data_shape, num_classes)
        optimizer = torch.optim.Adam(network.parameters(), lr=settings.lr)
        epochs = -(-settings.steps // -(-len(x_fit) // settings.batch_size))
        for _ in range(epochs):
            for batch in torch.randperm(len(x_fit)).split(settings.batch_size):
                xb = to_model_space(torch.from_numpy(x_fit[batch.numpy()]), train.levels)
                loss = F.cross_entropy(network(xb), y_fit[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    network.eval()
    with torch.inference_mode():
        x_holdout = to_model_space(torch.from_numpy(x[:n_holdout]), train.levels)
        predicted = torch.cat(
            [network(x_holdout[s : s + EVAL_BATCH]).argmax(1) for s in range(0, n_holdout, EVAL_BATCH)]
        )
    info = {
        "dataset": train.name,
        "labels": source,
        "num_classes": num_classes,
        "holdout_accuracy": float((predicted.numpy() == y[:n_holdout]).mean()),
        "train_examples": len(x_fit),
        "epochs": epochs,
        "data_shape": list(train.data_shape),
        "settings": asdict(settings),
    }
    return network, info


def _load(path: Path) -> TrainedClassifier:
    fix = "delete it so the classifier is trained again"
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path))
        if metadata.get("format") != FORMAT or int(metadata.get("format_version", "0")) > FORMAT_VERSION:
            raise ValueError("not a vaelab reference classifier of a known version")
        info = json.loads(metadata["info"])
        network = ReferenceClassifier(tuple(info["data_shape"]), int(info["num_classes"]))
        network.load_state_dict(state)
    except (SafetensorError, OSError, ValueError, KeyError, RuntimeError) as error:
        raise UserError(f"{path}: unreadable reference classifier ({' '.join(str(error).split())}); {fix}") from None
    info["path"] = str(path)
    return TrainedClassifier(network.eval(), info)


def _cache_key(train: ArrayDataset, settings: ClassifierSettings) -> str:
    """SHA-256 (16 hex digits) of the format version, settings, data layout and the training arrays."""
    digest = hashlib.sha256()
    header = {
        "version": FORMAT_VERSION,
        "settings": asdict(settings),
        "levels": train.levels,
        "dtype": str(train.x.dtype),
    }
    digest.update(json.dumps({**header, "shape": list(train.x.shape)}, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(train.x).data)
    labels = _class_labels(train)
    if labels is not None:
        digest.update(np.ascontiguousarray(labels).data)
    return digest.hexdigest()[:16]


def _slug(name: str) -> str:
    """A file-name-safe short form of a dataset name or path."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name).stem if "/" in name else name).strip("-") or "data"
