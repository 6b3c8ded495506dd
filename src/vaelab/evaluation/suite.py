"""Every evaluation figure of a model on a dataset split, selectable by name: what ``vaelab eval`` runs.

Metrics (the keys of :data:`METRICS`, each with the kinds of data it applies to):

- ``likelihood``: ``elbo``, ``reconstruction``, ``kl``, ``nll`` (K importance samples), ``bits_per_dim``
  (discrete data), each a per-example mean with ``*_stderr`` (:mod:`vaelab.evaluation.likelihood`);
- ``latent``: ``kl_per_dim``, ``active_units``, ``mutual_information``, ``aggregate_kl`` and the
  posterior-collapse warning (:mod:`vaelab.evaluation.latent`);
- ``quality``: ``frechet_distance``, ``precision``, ``recall`` between the split and as many generated
  examples, in the feature space of the reference classifier trained on the training split
  (:mod:`vaelab.evaluation.sample_quality`, :mod:`vaelab.evaluation.reference_classifier`);
- ``downstream``: ``latent_accuracy`` of a logistic regression on latent means, fitted on the training
  split and scored on the evaluated split (:mod:`vaelab.evaluation.downstream`); needs class labels;
- ``accuracy``: ``accuracy`` of a model's classifier q(y|x) (``--model m2``) on the labelled rows of the split,
  ``accuracy_rows``, ``accuracy_per_class`` and ``confusion_matrix`` (:mod:`vaelab.evaluation.classification`);
  needs class labels and a model with a classifier;
- ``disentanglement``: ``mig``, ``disentanglement`` / ``completeness`` / ``informativeness`` (DCI),
  ``sap`` on the latent means of a seeded subset of ``disentanglement_examples`` rows, and the
  interventional ``beta_vae_score`` and ``factor_vae_score`` with ``votes`` training groups (half as many
  evaluation groups) drawn from the dataset's generator (:mod:`vaelab.evaluation.disentanglement`);
  needs a dataset with known factors (``shapes``);
- ``links``: ``roc_auc`` and ``average_precision`` (fractions) of a graph model's edge probabilities on the
  held-out edges and non-edges of the evaluated split (:mod:`vaelab.evaluation.links`);
- ``molecules``: MOSES's figures (validity, unique@1k/10k, FCD, SNN, Frag, Scaf, IntDiv, filters, property
  distances, novelty) of ``molecule_samples`` molecules sampled from a SMILES or SELFIES model, against
  the evaluated split (:mod:`vaelab.evaluation.molecule_samples`).

Each metric starts from ``torch.manual_seed(seed)``, so its figures do not depend on which others run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaelab.data.batch import dataset_batches, graph_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.semi_supervised import is_labelled
from vaelab.errors import UserError
from vaelab.evaluation import disentanglement
from vaelab.evaluation.classification import classification_figures
from vaelab.evaluation.downstream import latent_accuracy
from vaelab.evaluation.inputs import EVAL_BATCH, model_device, stored_rows_encoder
from vaelab.evaluation.latent import latent_diagnostics
from vaelab.evaluation.likelihood import likelihood_per_example, summarise
from vaelab.evaluation.links import link_scores
from vaelab.evaluation.molecule_samples import molecule_figures, not_molecules
from vaelab.evaluation.reference_classifier import ClassifierSettings, reference_classifier
from vaelab.evaluation.sample_quality import frechet_distance, precision_recall
from vaelab.models import VAE
from vaelab.nn.sequence_decoding import TokenDecoding


@dataclass(frozen=True)
class EvalSettings:
    num_samples: int = 1000  # importance samples K for the NLL
    seed: int = 0
    sample_mean: bool = False  # quality: compare E[x|z] rather than draws x ~ p(x|z)
    cache_dir: Path | None = None  # reference classifiers (None: vaelab's cache folder)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    downstream_examples: int = 20_000  # training examples (seeded subset) for the latent probe
    disentanglement_examples: int = 10_000  # codes for MIG, DCI and SAP (disentanglement_lib: 10,000)
    votes: int = 800  # BetaVAE / FactorVAE training groups of 64 (disentanglement_lib: 10,000)
    molecule_samples: int = 30_000  # molecules: sampled molecules scored (MOSES: 30,000)
    reconstructed_molecules: int = 1000  # molecules: test molecules of the reconstruction accuracy (JT-VAE: 1,000)
    molecule_decoding: TokenDecoding = field(default_factory=lambda: TokenDecoding("sample"))  # MOSES: sampled


@dataclass
class Evaluation:
    figures: dict[str, Any]  # JSON-ready figures, flat keys
    per_example: dict[str, np.ndarray] = field(default_factory=dict)  # (N,) arrays in data order
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Inputs:
    model: VAE
    data: ArrayDataset
    train: ArrayDataset | None
    settings: EvalSettings


def _likelihood(inputs: _Inputs, result: Evaluation) -> None:
    values = likelihood_per_example(inputs.model, inputs.data, inputs.settings.num_samples)
    result.per_example.update(values)
    result.figures.update(summarise(values), num_samples=inputs.settings.num_samples)


def _latent(inputs: _Inputs, result: Evaluation) -> None:
    figures = latent_diagnostics(inputs.model, inputs.data)
    result.warnings += figures.pop("warnings")
    result.figures.update(figures)


def _need_train(inputs: _Inputs, metric: str) -> ArrayDataset:
    if inputs.train is None:
        raise UserError(f"the {metric} metric needs the training split; pass train= (the CLI loads it)")
    return inputs.train


def _features_of_real(inputs: _Inputs, extract: Callable[[torch.Tensor], np.ndarray]) -> np.ndarray:
    batches = dataset_batches(inputs.data, EVAL_BATCH, model_device(inputs.model))
    return np.concatenate([extract(batch.x.cpu()) for batch in batches])


def _quality(inputs: _Inputs, result: Evaluation) -> None:
    settings, model, data = inputs.settings, inputs.model, inputs.data
    classifier = reference_classifier(_need_train(inputs, "quality"), settings.cache_dir, settings.classifier)
    extract = classifier.network.features
    real = _features_of_real(inputs, extract)
    fake = []
    for start in range(0, len(data), EVAL_BATCH):
        n = min(EVAL_BATCH, len(data) - start)
        y = None if data.y is None or not model.is_conditional else torch.from_numpy(data.y[start : start + n])
        fake.append(extract(model.sample(n, y=y, mean=settings.sample_mean).cpu()))
    generated = np.concatenate(fake)
    result.figures.update(
        frechet_distance=frechet_distance(real, generated),
        **precision_recall(real, generated),
        quality_samples="mean" if settings.sample_mean else "random",
        num_generated=len(generated),
        reference_classifier={k: classifier.info[k] for k in ("labels", "num_classes", "holdout_accuracy", "path")},
    )


def _class_labels(data: ArrayDataset) -> np.ndarray | None:
    return data.y if data.y is not None and data.y.ndim == 1 else None


def _codes(model: VAE, data: ArrayDataset) -> np.ndarray:
    batches = dataset_batches(data, EVAL_BATCH, model_device(model))
    return np.concatenate([model.embed(batch.x, batch.y).double().cpu().numpy() for batch in batches])


def _seeded_subset(data: ArrayDataset, size: int, seed: int) -> ArrayDataset:
    """``size`` rows of ``data`` drawn without replacement by ``seed``, kept in data order."""
    return data.subset(np.sort(np.random.default_rng(seed).choice(len(data), size, replace=False)))


def _downstream(inputs: _Inputs, result: Evaluation) -> None:
    train, data = _need_train(inputs, "downstream"), inputs.data
    train_labels, test_labels = _class_labels(train), _class_labels(data)
    if train_labels is None or test_labels is None:
        raise UserError("the downstream metric needs class labels in the training and evaluated splits")
    if len(train) > inputs.settings.downstream_examples:
        train = _seeded_subset(train, inputs.settings.downstream_examples, inputs.settings.seed)
        train_labels = _class_labels(train)
        assert train_labels is not None
    accuracy = latent_accuracy(_codes(inputs.model, train), train_labels, _codes(inputs.model, data), test_labels)
    result.figures.update(latent_accuracy=accuracy, latent_accuracy_train_examples=len(train))


def _disentanglement(inputs: _Inputs, result: Evaluation) -> None:
    settings, model, data = inputs.settings, inputs.model, inputs.data
    if data.factors is None or data.oracle is None:
        raise UserError(
            f"the disentanglement metric needs a dataset with known factors (e.g. shapes); {data.name} has none"
        )
    if len(data) > settings.disentanglement_examples:
        data = _seeded_subset(data, settings.disentanglement_examples, settings.seed)
    assert data.factors is not None and data.oracle is not None
    codes = _codes(model, data)  # (N, D) latent means
    encode = stored_rows_encoder(model, data.levels)
    votes = {"num_train": settings.votes, "num_eval": max(1, settings.votes // 2), "seed": settings.seed}
    beta_vae = disentanglement.beta_vae_score(data.oracle, encode, **votes)
    factor_vae = disentanglement.factor_vae_score(data.oracle, encode, num_variance_estimate=len(codes), **votes)
    result.figures.update(
        **disentanglement.mig(codes, data.factors),
        **disentanglement.dci(codes, data.factors, seed=settings.seed),
        **disentanglement.sap(codes, data.factors, seed=settings.seed),
        beta_vae_score=beta_vae["beta_vae_score"],
        factor_vae_score=factor_vae["factor_vae_score"],
        factor_vae_active_dims=factor_vae["num_active_dims"],
        disentanglement_codes=len(codes),
        disentanglement_votes=settings.votes,
    )


def _likelihood_line(r: dict[str, Any]) -> str:
    bits = f"  bits/dim {r['bits_per_dim']:.4f}" if "bits_per_dim" in r else ""
    nll = (
        f"nll {r['nll']:.3f} ± {r['nll_stderr']:.3f} (K={r['num_samples']})"
        if "nll" in r
        else "no nll (deterministic codes: elbo is log p(x, z), not a bound)"
    )
    return f"elbo {r['elbo']:.3f}  {nll}  reconstruction {r['reconstruction']:.3f}  kl {r['kl']:.3f}{bits}"


def _latent_line(r: dict[str, Any]) -> str:
    kl = "" if r["kl_per_dim"] is None else "  kl per dim " + " ".join(f"{v:.2f}" for v in r["kl_per_dim"])
    mi = (
        f"mutual information {r['mutual_information']:.3f} (at most log N = {r['mutual_information_max']:.3f})  "
        f"aggregate kl {r['aggregate_kl']:.3f}"
        if r["mutual_information"] is not None
        else "mutual information unavailable for this posterior"
    )
    return f"active units {r['active_units']} of {r['latent_dim']}  {mi}{kl}"


def _quality_line(r: dict[str, Any]) -> str:
    c = r["reference_classifier"]
    return (
        f"frechet distance {r['frechet_distance']:.3f}  precision {r['precision']:.3f}  recall {r['recall']:.3f} "
        f"({r['num_generated']} {r['quality_samples']} samples; classifier on {c['labels']}, "
        f"held-out accuracy {c['holdout_accuracy']:.3f})"
    )


def _downstream_line(r: dict[str, Any]) -> str:
    fitted_on = r["latent_accuracy_train_examples"]
    return f"latent accuracy {r['latent_accuracy']:.4f} (logistic regression fitted on {fitted_on} training codes)"


def _disentanglement_line(r: dict[str, Any]) -> str:
    return (
        f"MIG {r['mig']:.3f}  DCI disentanglement {r['disentanglement']:.3f} completeness {r['completeness']:.3f} "
        f"informativeness {r['informativeness']:.3f}  SAP {r['sap']:.3f}  BetaVAE score {r['beta_vae_score']:.3f}  "
        f"FactorVAE score {r['factor_vae_score']:.3f} ({r['disentanglement_codes']} codes, "
        f"{r['disentanglement_votes']} votes)"
    )


def _needs_class_labels(data: ArrayDataset) -> str | None:
    return None if _class_labels(data) is not None else "the data have no class labels"


def _accuracy(inputs: _Inputs, result: Evaluation) -> None:
    result.figures.update(classification_figures(inputs.model, inputs.data))


def _accuracy_line(r: dict[str, Any]) -> str:
    return f"accuracy {r['accuracy']:.4f} of q(y|x) on {r['accuracy_rows']} labelled rows"


def _needs_labelled_rows(data: ArrayDataset) -> str | None:
    labels = _class_labels(data)
    if labels is None:
        return "the data have no class labels"
    return None if is_labelled(labels).any() else "no row of the data is labelled"


def _needs_classifier(model: VAE | None) -> str | None:
    if model is None or model.classifier is None:
        return "it needs a model with a classifier q(y|x) (train one with --model m2)"
    return None


def _needs_factors(data: ArrayDataset) -> str | None:
    return None if data.factors is not None else "the data have no known generating factors"


def _molecules(inputs: _Inputs, result: Evaluation) -> None:
    train = _need_train(inputs, "molecules")
    settings = inputs.settings
    figures = molecule_figures(
        inputs.model,
        inputs.data,
        train,
        settings.molecule_samples,
        settings.cache_dir,
        settings.reconstructed_molecules,
        settings.molecule_decoding,
        settings.seed,
    )
    result.figures.update({f"molecules/{name}": value for name, value in figures.items()})
    result.figures["molecule_samples"] = settings.molecule_samples
    result.figures["molecule_decoding"] = settings.molecule_decoding.describe()


def _molecules_line(r: dict[str, Any]) -> str:
    names = [key.removeprefix("molecules/") for key in r if key.startswith("molecules/")]
    decoding = r.get("molecule_decoding", "sampled")  # eval files written before greedy decoding was offered
    figures = "  ".join(f"{name} {r[f'molecules/{name}']:.3f}" for name in names)
    return f"{figures} ({r['molecule_samples']} {decoding})"


def _links(inputs: _Inputs, result: Evaluation) -> None:
    batch = graph_batch(inputs.data, model_device(inputs.model))
    result.figures.update(link_scores(inputs.model, batch).as_dict())


def _links_line(r: dict[str, Any]) -> str:
    return f"ROC-AUC {r['roc_auc']:.4f}  average precision {r['average_precision']:.4f} ({r['pairs']} held-out pairs)"


def _needs_held_out_pairs(data: ArrayDataset) -> str | None:
    if data.graph is None or data.graph.pairs is None:
        return "it scores held-out edges: evaluate the valid or test split of a graph"
    return None


@dataclass(frozen=True)
class Metric:
    """One entry of the metric registry: what it adds to an :class:`Evaluation`, its one-line summary, the
    kinds of data it applies to, and (``unmet``) why it does not apply to given data, or None."""

    compute: Callable[[_Inputs, Evaluation], None]
    line: Callable[[dict[str, Any]], str]
    kinds: tuple[str, ...]
    unmet: Callable[[ArrayDataset], str | None] = lambda data: None
    default: bool = False  # computed when no metric is named
    # what it needs of the model (None: nothing) -> why a model (None: not known) does not fit, or None
    unmet_by_model: Callable[[VAE | None], str | None] | None = None


METRICS: dict[str, Metric] = {
    "likelihood": Metric(_likelihood, _likelihood_line, ("image", "table", "sequence"), default=True),
    "latent": Metric(_latent, _latent_line, ("image", "table", "sequence"), default=True),
    "quality": Metric(_quality, _quality_line, ("image", "table")),
    "downstream": Metric(_downstream, _downstream_line, ("image", "table"), _needs_class_labels),
    "accuracy": Metric(
        _accuracy,
        _accuracy_line,
        ("image", "table"),
        _needs_labelled_rows,
        default=True,
        unmet_by_model=_needs_classifier,
    ),
    "disentanglement": Metric(_disentanglement, _disentanglement_line, ("image",), _needs_factors),
    "molecules": Metric(_molecules, _molecules_line, ("sequence",), not_molecules),
    "links": Metric(_links, _links_line, ("graph",), _needs_held_out_pairs, default=True),
}
"""Metric name -> its entry; a new kind of data adds its metrics here (``vaelab eval --metrics NAME``)."""


def default_metrics(data: ArrayDataset, model: VAE | None = None) -> list[str]:
    """The metrics computed when none is named: the default ones that apply to ``data``; those that need
    something of the model (a classifier) only when ``model`` has it."""
    kind = data.schema.kind
    return [
        name
        for name, metric in METRICS.items()
        if metric.default
        and kind in metric.kinds
        and (metric.unmet_by_model is None or _why_not(metric, data, model) is None)
    ]


def _why_not(metric: Metric, data: ArrayDataset, model: VAE | None = None) -> str | None:
    kind = data.schema.kind
    if kind not in metric.kinds:
        return f"it applies to {' and '.join(metric.kinds)} data, not {kind} data"
    unfit = None if metric.unmet_by_model is None else metric.unmet_by_model(model)
    return unfit or metric.unmet(data)


def resolve_metrics(requested: str, data: ArrayDataset, model: VAE | None = None) -> tuple[list[str], dict[str, str]]:
    """Comma-separated metric names (``all`` for every metric that applies) -> (names, skipped with
    the reason). Raises UserError for an unknown name or a named metric that does not apply to ``data``
    (its kind, or what it needs: class labels, known factors) or to ``model`` (None: not known; a classifier)."""
    names = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in names if name not in METRICS and name != "all"]
    if unknown or not names:
        raise UserError(
            f"unknown metric {(unknown or [requested])[0]!r}; use a comma-separated list of: all, {', '.join(METRICS)}"
        )
    missing = {
        name: reason for name, metric in METRICS.items() if (reason := _why_not(metric, data, model)) is not None
    }
    if "all" in names:
        return [name for name in METRICS if name not in missing], missing
    for name in names:
        if name in missing:
            raise UserError(f"the {name} metric does not apply: {missing[name]}; leave it out")
    return [name for name in METRICS if name in names], {}


def evaluate(
    model: VAE,
    data: ArrayDataset,
    metrics: list[str] | tuple[str, ...] | None = None,
    train: ArrayDataset | None = None,
    settings: EvalSettings = EvalSettings(),
) -> Evaluation:
    """The figures of ``metrics`` (names in :data:`METRICS`; None: :func:`default_metrics`) for ``model`` on
    ``data``; ``train`` (the training split) is needed by ``quality`` and ``downstream``. Not to be called under
    ``torch.inference_mode()``: ``quality`` may train the reference classifier."""
    if len(data) < 2:
        raise UserError("evaluation needs at least 2 examples; evaluate more of the split")
    if settings.num_samples < 1:
        raise UserError("the number of importance samples K (--num-samples) must be at least 1")
    names = default_metrics(data, model) if metrics is None else list(metrics)
    model.eval()
    result = Evaluation(figures={"num_examples": len(data), "metrics": names})
    inputs = _Inputs(model, data, train, settings)
    for name in names:
        torch.manual_seed(settings.seed)
        METRICS[name].compute(inputs, result)
    return result
