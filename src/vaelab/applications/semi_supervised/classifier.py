"""``VAEClassifier``: a scikit-learn classifier that learns from a few labelled rows among many unlabelled ones
with Kingma et al. 2014's M2 (a classifier q(y|x), a posterior q(z|x, y) and a decoder p(x|y, z), trained on the
bound of every row with the class of an unlabelled row summed out; :mod:`vaelab.objectives.m2`).

It follows scikit-learn's semi-supervised convention: ``y = -1`` marks an unlabelled row, as in
``SelfTrainingClassifier`` and ``LabelSpreading`` (:mod:`.labels`).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import _safe_indexing, column_or_1d
from sklearn.utils.validation import check_array, check_is_fitted

from vaelab.applications.anomaly.validation import InvalidInput
from vaelab.applications.semi_supervised.array_vae import CHUNK_ROWS, ArrayVAE, is_number, sklearn_errors
from vaelab.applications.semi_supervised.labels import class_indices, encode_labels, unlabelled_rows
from vaelab.objectives.m2 import M2

NAME = "VAEClassifier"


class VAEClassifier(ClassifierMixin, TransformerMixin, ArrayVAE):
    """Semi-supervised classification with M2 (Kingma et al. 2014, §3.1.2): ``fit(X, y)`` with ``y = -1`` for
    the rows whose class is not known.

    ``X``: an array ``(N, D)`` of numbers or a DataFrame of numeric columns (a table), or images ``(N, C, H, W)``.
    The likelihood follows the builder's rule for the training values (``vaelab.models.build.auto_likelihood``):
    0/1 values -> Bernoulli, values in [0, 1] -> continuous Bernoulli, anything else -> a Gaussian with a learned
    scale per entry, on entries the classifier standardises itself (the training mean and standard deviation of
    each, ``loc_`` and ``scale_``, saved with the model; ``sample`` maps back to the user's units).
    ``y``: labels ``(N,)``, numbers or text (text with unlabelled rows: an object array of strings and -1).

    - ``predict_proba(X)``: q(y|x) ``(N, K)`` (columns in the order of ``classes_``); ``predict(X)``: the most
      probable class; ``score(X, y)``: the accuracy on the rows of ``y`` that are labelled (-1 rows left out).
    - ``transform(X)``: ``(N, latent_dim)``, the posterior mean of q(z|x, y) at the predicted class y.
    - ``sample(n, y=None)``: ``(X, y)``, n rows drawn from p(x|y, z) p(z), each of class ``y`` (one class for
      all, or one per row; None: classes drawn uniformly, p(y) of the model).
    - ``save(directory)`` / ``VAEClassifier.load(directory)``: JSON and safetensors, no pickle (:mod:`.saving`).

    Parameters
    ----------
    latent_dim, hidden_dims : size of z and the MLP's layer widths (encoder, classifier; the decoder mirrors);
        the paper's M2 has 50 and one layer of 500. Images of 32 pixels a side and more get conv nets instead.
    epochs, batch_size, lr : Adam's training on batches of ``batch_size`` rows of an epoch's permutation.
    labelled_per_batch : labelled rows added to every batch besides (``TrainSettings.labelled_per_batch``; 0:
        none, the rows' share of the data as the M2 objective's weights assume).
    alpha : weight of the classification loss on the labelled rows (None: the M2 objective's default, 0.1, the
        paper's; :class:`~vaelab.objectives.m2.M2` scales it by the rows per labelled row).
    max_minutes : wall-clock budget of the fit (None: all ``epochs``).
    random_state : seeds the weights and the training's batches; None draws a seed.
    threads : torch intra-op threads while fitting and predicting (None: torch's setting).
    device : torch device of the model. ``verbose``: show the training's progress.

    Attributes
    ----------
    classes_ : the sorted distinct labels other than -1. ``model_`` : the trained ``vaelab.VAE``.
    likelihood_ : the likelihood's name. ``loc_``, ``scale_`` : the standardisation of a Gaussian model's
    entries, ``(prod(data_shape_),)``, else None. ``data_shape_`` : the shape of one row. ``seed_`` : the seed the
    fit used. ``n_features_in_``, ``feature_names_in_`` : as in scikit-learn (tables).
    """

    noun: ClassVar[str] = "classifier"
    saved_file: ClassVar[str] = "classifier.json"
    saved_format: ClassVar[str] = "vaelab.classifier"

    def __init__(
        self,
        *,
        latent_dim: int = 50,
        hidden_dims: tuple[int, ...] = (500,),
        epochs: int = 100,
        batch_size: int = 100,
        lr: float = 1e-3,
        alpha: float | None = None,
        labelled_per_batch: int = 0,
        max_minutes: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        threads: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.alpha = alpha
        self.labelled_per_batch = labelled_per_batch
        self.max_minutes = max_minutes
        self.random_state = random_state
        self.threads = threads
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> VAEClassifier:
        """Train M2 on the rows of ``X``, learning the classes from the rows of ``y`` that are not -1."""
        self._check_params()
        if y is None:
            raise InvalidInput(
                f"{NAME} requires y to be passed, but the target y is None; give a label per row, -1 where unknown"
            )
        x = self._array(X, reset=True)
        if isinstance(y, list | tuple) and any(isinstance(label, str) for label in y):
            y = np.array(y, dtype=object)  # numpy would turn the -1 of unlabelled rows into the text "-1"
        with sklearn_errors():
            labels = column_or_1d(check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False), warn=True)
        if len(labels) != len(x):
            raise InvalidInput(f"X has {len(x)} rows but y has {len(labels)} labels; give one label per row")
        with sklearn_errors():
            codes, self.classes_ = encode_labels(labels)
        data = self._dataset(x, codes, num_classes=len(self.classes_))
        # M2's parts, named here: the class as condition, q(y|x) beside q(z|x, y)
        config = self._model_config("m2", classifier=True)
        objective = M2() if self.alpha is None else M2(alpha=float(self.alpha))
        self._train(config, objective, data, conditional=True, labelled_per_batch=self.labelled_per_batch)
        return self

    # -------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """q(y|x) ``(N, K)`` float64, each row summing to 1; columns in the order of ``classes_``."""
        x = self._tensor(X)
        with self._inference():
            chunks = [torch.softmax(self.model_.q_y(part).logits.double(), dim=-1) for part in x.split(CHUNK_ROWS)]
        return torch.cat(chunks).cpu().numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row under q(y|x), ``(N,)`` taken from ``classes_``."""
        best = self.predict_proba(X).argmax(axis=1)
        return np.asarray(self.classes_[best])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The accuracy of ``predict`` on the rows of ``y`` that are labelled (rows labelled -1 are left out, so
        ``cross_val_score`` on semi-supervised labels scores the known ones)."""
        labels = column_or_1d(np.asarray(y, dtype=None))
        labelled = np.flatnonzero(~unlabelled_rows(labels))
        if labelled.size == 0:
            raise InvalidInput("no row of y is labelled (-1 everywhere): there is nothing to score")
        weights = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        predicted = self.predict(_safe_indexing(X, labelled))
        return float(accuracy_score(labels[labelled], predicted, sample_weight=weights))

    def transform(self, X: Any) -> np.ndarray:
        """``(N, latent_dim)`` float64: E[z] under q(z|x, y) with y each row's predicted class."""
        x = self._tensor(X)
        with self._inference():
            chunks = []
            for part in x.split(CHUNK_ROWS):  # encode reads each row at its predicted class
                chunks.append(self.model_.encode(part).mean.double())
        return torch.cat(chunks).cpu().numpy()

    # --------------------------------------------------------------- sample
    def sample(
        self, n: int, y: Any = None, random_state: int | None = None, mean: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)``: ``n`` rows ``(n, *data_shape_)`` in the units of the training X, each drawn from
        p(x|y, z) with z ~ p(z) (``mean``: E[x|y, z] instead), and their classes ``(n,)``. ``y``: a class for
        every row, or one class per row, or None for classes drawn uniformly. ``random_state`` (None: the fit's
        seed) seeds the draw."""
        check_is_fitted(self)
        if not (isinstance(n, Integral) and not isinstance(n, bool) and n >= 1):
            raise InvalidInput(f"n must be a positive integer, not {n!r}")
        n = int(n)
        seed = self.seed_ if random_state is None else random_state
        index = self._sampled_classes(n, y, np.random.default_rng(seed))
        classes = torch.from_numpy(index).to(self._device())
        with self._inference(seed):
            chunks = []
            for part in classes.split(CHUNK_ROWS):
                z = self.model_.prior_sample(len(part), part)
                chunks.append(self.model_.examples(z, part, mean=mean))
        return self._user_units(torch.cat(chunks)), np.asarray(self.classes_[index])

    def _sampled_classes(self, n: int, y: Any, rng: np.random.Generator) -> np.ndarray:
        """``(n,)`` class indices: drawn uniformly (``y`` None), ``y`` for every row, or ``y (n,)`` row by row."""
        if y is None:
            return rng.integers(len(self.classes_), size=n).astype(np.int64)
        labels = np.asarray(y, dtype=object if isinstance(y, str) else None)
        if labels.ndim == 0:
            labels = np.full(n, labels.item(), dtype=object)
        if labels.shape != (n,):
            raise InvalidInput(
                f"y must be one class or {n} classes (one per row), not an array of shape {labels.shape}"
            )
        return class_indices(self.classes_, labels)

    # ------------------------------------------------------------ save, load
    def _saved_state(self) -> dict[str, Any]:
        """The classes, as JSON values with their numpy dtype, for ``classifier.json`` (:mod:`.saving`)."""
        return {
            "classes": self.classes_.tolist(),
            "classes_dtype": self.classes_.dtype.str if self.classes_.dtype != object else "object",
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.classes_ = np.array(state["classes"], dtype=np.dtype(state["classes_dtype"]))
        if self.model_.num_classes != len(self.classes_):
            raise ValueError(f"the model has {self.model_.num_classes} classes, classifier.json {len(self.classes_)}")

    # ------------------------------------------------------------- internals
    def _check_params(self) -> None:
        super()._check_params()
        per_batch = self.labelled_per_batch
        if not (isinstance(per_batch, Integral) and not isinstance(per_batch, bool) and per_batch >= 0):
            raise InvalidInput(f"labelled_per_batch must be an integer >= 0; got {self.labelled_per_batch!r}")
        if not (self.alpha is None or (is_number(self.alpha) and self.alpha >= 0)):
            raise InvalidInput(f"alpha must be a number >= 0 or None (the M2 default); got {self.alpha!r}")
