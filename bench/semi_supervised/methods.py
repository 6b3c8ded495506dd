"""The methods of the semi-supervised benchmark: each ``(protocol, settings) -> MethodResult`` (test accuracy on the
protocol's evaluation rows, training seconds, details), trained on ``protocol.train`` and nothing else.

- ``m2``: vaelab's M2 (Kingma et al. 2014, §3.1.2), one hidden layer per network, trained by ``vaelab.training.fit``
  with the M2 objective; ``accuracy`` is argmax q(y|x) at the last epoch, a rule fixed in advance that reads no
  label (``details`` also holds the accuracy at the epoch of the best validation ELBO, another label-free rule,
  and the accuracy after every epoch, a curve for reading, never for choosing).
- ``supervised``: the same classifier network q(y|x) (built as in ``m2``), trained alone with cross-entropy on the
  N labelled rows by a recipe fixed in advance (``SUPERVISED_*``, ``Settings.supervised_steps`` Adam steps whatever
  N: the classifier fits the N labels long before); what M2 gains from the unlabelled rows is the difference.
- ``label_spreading``: scikit-learn's ``LabelSpreading`` with its kNN kernel (7 neighbours) on the pixels.
- ``self_training``: ``SelfTrainingClassifier(LogisticRegression())`` on the pixels (threshold 0.75, 10 rounds).
- ``m1``: Kingma et al.'s M1 with a logistic regression in place of their TSVM: a plain VAE trained on every
  training image without labels, then ``LogisticRegression`` on the labelled rows' posterior means.
- ``m1_m2``: Kingma et al.'s stacked M1+M2 (§3.1.3) as vaelab's scikit-learn pipeline: ``VAEEncoder`` (M1: two
  hidden layers of 600, latent 50, as in the paper) trained on every training image, its active units kept
  (scikit-learn's ``VarianceThreshold``: the latent dimensions whose posterior mean varies over the training
  images by more than 0.01, Burda et al. 2016's criterion), then ``VAEClassifier`` (M2) on those posterior means
  with the labels; ``details`` also holds M1's logistic regression on the same codes.

The two scikit-learn methods may be given a seeded subset of the unlabelled rows (``Settings.baseline_unlabelled``);
``details["unlabelled_rows"]`` records how many every method used.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from protocol import Protocol, flat_images, unlabelled_subset
from torch.nn import functional as F

from vaelab.config.build import model_spec
from vaelab.data.batch import dataset_batches, dataset_rows
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.classification import classification_figures
from vaelab.models import VAE
from vaelab.models.build import build_model
from vaelab.models.spec import ModelConfig
from vaelab.objectives import ELBO
from vaelab.objectives.m2 import M2
from vaelab.training import TrainSettings, fit
from vaelab.training.batches import LabelledRows

SUPERVISED_BATCH = 100
SUPERVISED_LR = 1e-3
EVAL_BATCH = 1000


@dataclass(frozen=True)
class Settings:
    """The methods' hyperparameters; the ``m2`` and ``m1`` VAEs share the training ones."""

    epochs: int = 50
    max_minutes: float | None = None  # wall-clock budget of each VAE's training
    lr: float = 4.2e-4  # Pyro's SS-VAE tutorial
    batch_size: int = 100  # unlabelled (and, for m1, all) rows per batch
    labelled_per_batch: int = TrainSettings.labelled_per_batch  # m2: labelled rows added to every batch
    alpha: float = 0.1  # m2: Kingma et al.'s alpha / N (vaelab.objectives.m2)
    hidden: int = 500  # one hidden layer in every network (Kingma et al. 2014, §4)
    latent_dim: int = 50
    seed: int = 0
    device: str = "cpu"
    supervised_steps: int = 2000  # supervised: Adam steps on the labelled rows
    baseline_unlabelled: int | None = None  # label_spreading, self_training: a seeded subset of unlabelled rows
    m1_hidden: tuple[int, ...] = (600, 600)  # m1_m2: the M1 encoder's widths (Kingma et al. 2014, §4.1)
    m1_epochs: int = 50  # m1_m2: M1's epochs (Adam at 1e-3)
    stacked_alpha: float = 5.0  # m1_m2: the M2 objective's alpha on M1's codes
    m1_active: float | None = 0.01  # m1_m2: keep M1's units whose posterior mean varies more (None: keep all)


@dataclass
class MethodResult:
    accuracy: float
    seconds: float  # training only (for the scikit-learn methods: fit)
    details: dict[str, Any] = field(default_factory=dict)


def vae_model(preset: str, data: ArrayDataset, settings: Settings) -> VAE:
    """A model of ``preset`` for ``data`` with one MLP hidden layer of ``settings.hidden`` in every network."""
    network = {"name": "mlp", "hidden_dims": [settings.hidden]}
    config = ModelConfig.model_validate({"preset": preset, "latent_dim": settings.latent_dim, "network": network})
    torch.manual_seed(settings.seed)
    return build_model(model_spec(config, data))


def train_settings(settings: Settings) -> TrainSettings:
    return TrainSettings(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        seed=settings.seed,
        device=settings.device,
        max_minutes=settings.max_minutes,
        labelled_per_batch=settings.labelled_per_batch,
        bar=False,
    )


def model_device(model: VAE) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def classifier_accuracy(model: VAE, data: ArrayDataset) -> float:
    """Share of ``data``'s rows whose label is argmax q(y|x), in eval mode."""
    was_training = model.training
    model.eval()
    accuracy = float(classification_figures(model, data)["accuracy"])
    model.train(was_training)
    return accuracy


@torch.inference_mode()
def posterior_means(model: VAE, data: ArrayDataset) -> np.ndarray:
    """``(N, latent_dim)`` means of q(z|x) of ``data``'s rows."""
    model.eval()
    means = [
        model.encode(batch.x, None, batch.mask).mean for batch in dataset_batches(data, EVAL_BATCH, model_device(model))
    ]
    return torch.cat(means).cpu().numpy()


def m2(protocol: Protocol, settings: Settings) -> MethodResult:
    model = vae_model("m2", protocol.train, settings)
    by_epoch: list[float] = []
    scoring_s = 0.0

    def score_epoch(record: dict[str, Any]) -> None:  # a curve to read; no rule below chooses by it
        nonlocal scoring_s
        started = time.perf_counter()
        by_epoch.append(classifier_accuracy(model, protocol.evaluation))
        scoring_s += time.perf_counter() - started

    started = time.perf_counter()
    result = fit(
        model, M2(settings.alpha), protocol.train, protocol.valid, train_settings(settings), callbacks=[score_epoch]
    )
    seconds = time.perf_counter() - started - scoring_s
    last = result.history[-1]
    details = {
        "epochs_trained": len(result.history),
        "stopped_early": result.stopped_early,
        "best_elbo_epoch": result.best_epoch,
        "accuracy_best_elbo": classifier_accuracy(model, protocol.evaluation),  # fit keeps the best valid ELBO
        "accuracy_by_epoch": by_epoch,
        "valid_elbo_last": last["valid"]["elbo"],
        "train_loss_last": last["train"]["loss"],
        "unlabelled_rows": protocol.num_unlabelled,
    }
    return MethodResult(by_epoch[-1], seconds, details)


def supervised(protocol: Protocol, settings: Settings) -> MethodResult:
    model = vae_model("m2", protocol.train, settings).to(settings.device)
    classifier = model.classifier
    assert classifier is not None
    labelled = dataset_rows(protocol.labelled, np.arange(len(protocol.labelled)), settings.device)
    assert labelled.y is not None
    rows = LabelledRows(
        torch.arange(len(labelled)),
        min(SUPERVISED_BATCH, len(labelled)),
        torch.Generator().manual_seed(settings.seed),
    )
    optimizer = torch.optim.Adam(classifier.parameters(), lr=SUPERVISED_LR)
    model.train()
    started = time.perf_counter()
    for _ in range(settings.supervised_steps):
        index = rows.draw().to(labelled.x.device)
        loss = F.cross_entropy(model.q_y(labelled.x[index]).logits, labelled.y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    details = {"steps": settings.supervised_steps, "train_loss_last": loss.item(), "unlabelled_rows": 0}
    return MethodResult(classifier_accuracy(model, protocol.evaluation), seconds, details)


def baseline_rows(protocol: Protocol, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(R, 784)`` and labels (``-1`` unlabelled) of the rows the scikit-learn methods train on: the
    unlabelled rows (or their seeded subset) and every labelled row."""
    assert protocol.train.y is not None
    kept = unlabelled_subset(protocol.num_unlabelled, settings.baseline_unlabelled)
    rows = np.concatenate([kept, np.arange(protocol.num_unlabelled, len(protocol.train))])
    return flat_images(protocol.train)[rows], protocol.train.y[rows]


def scikit_learn_method(protocol: Protocol, settings: Settings, estimator: Any) -> MethodResult:
    """Fit ``estimator`` on the baseline rows, score its predictions of the evaluation rows."""
    x, y = baseline_rows(protocol, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LogisticRegression's convergence warnings
        started = time.perf_counter()
        estimator.fit(x, y)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        predicted = estimator.predict(flat_images(protocol.evaluation))
    details = {"predict_seconds": time.perf_counter() - started, "unlabelled_rows": int((y == -1).sum())}
    return MethodResult(float((predicted == protocol.evaluation.y).mean()), seconds, details)


def label_spreading(protocol: Protocol, settings: Settings) -> MethodResult:
    from sklearn.semi_supervised import LabelSpreading

    return scikit_learn_method(protocol, settings, LabelSpreading(kernel="knn", n_neighbors=7))


def self_training(protocol: Protocol, settings: Settings) -> MethodResult:
    from sklearn.linear_model import LogisticRegression
    from sklearn.semi_supervised import SelfTrainingClassifier

    return scikit_learn_method(protocol, settings, SelfTrainingClassifier(LogisticRegression(max_iter=1000)))


def m1(protocol: Protocol, settings: Settings) -> MethodResult:
    from sklearn.linear_model import LogisticRegression

    images = replace(protocol.train, y=None, num_classes=None)  # M1's VAE reads no label
    model = vae_model("vae", images, settings)
    started = time.perf_counter()
    result = fit(model, ELBO(), images, protocol.valid, train_settings(settings))
    classifier = LogisticRegression(max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(posterior_means(model, protocol.labelled), protocol.labelled.y)
    seconds = time.perf_counter() - started
    predicted = classifier.predict(posterior_means(model, protocol.evaluation))
    details = {
        "epochs_trained": len(result.history),
        "best_elbo_epoch": result.best_epoch,
        "valid_elbo_best": max(record["valid"]["elbo"] for record in result.history),
        "unlabelled_rows": protocol.num_unlabelled,
    }
    return MethodResult(float((predicted == protocol.evaluation.y).mean()), seconds, details)


def m1_m2(protocol: Protocol, settings: Settings) -> MethodResult:
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from vaelab import VAEClassifier, VAEEncoder

    assert protocol.train.y is not None and protocol.labelled.y is not None
    started = time.perf_counter()
    encoder = VAEEncoder(
        latent_dim=settings.latent_dim,
        hidden_dims=settings.m1_hidden,
        epochs=settings.m1_epochs,
        batch_size=settings.batch_size,
        lr=1e-3,
        random_state=settings.seed,
        device=settings.device,
    )
    # Inactive units carry no information about the image; standardised for M2, they would be pure noise.
    active = [] if settings.m1_active is None else [VarianceThreshold(settings.m1_active)]
    m1 = make_pipeline(encoder, *active).fit(flat_images(protocol.train))
    m1_seconds = time.perf_counter() - started
    codes = m1.transform(flat_images(protocol.train))
    classifier = VAEClassifier(
        latent_dim=settings.latent_dim,
        hidden_dims=(settings.hidden,),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=1e-3,
        alpha=settings.stacked_alpha,
        random_state=settings.seed,
        device=settings.device,
    ).fit(codes, protocol.train.y)
    seconds = time.perf_counter() - started
    evaluation = m1.transform(flat_images(protocol.evaluation))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labelled = m1.transform(flat_images(protocol.labelled))
        m1_logistic = LogisticRegression(max_iter=2000).fit(labelled, protocol.labelled.y)
    details = {
        "m1_minutes": m1_seconds / 60,
        "m1_units": int(codes.shape[1]),
        "m1_logistic_accuracy": float((m1_logistic.predict(evaluation) == protocol.evaluation.y).mean()),
        "unlabelled_rows": protocol.num_unlabelled,
    }
    return MethodResult(classifier.score(evaluation, protocol.evaluation.y), seconds, details)


METHODS: dict[str, Callable[[Protocol, Settings], MethodResult]] = {
    "m2": m2,
    "supervised": supervised,
    "label_spreading": label_spreading,
    "self_training": self_training,
    "m1": m1,
    "m1_m2": m1_m2,
}
