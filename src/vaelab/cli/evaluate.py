"""``vaelab eval``: evaluation figures of a saved model on a dataset split, written into the run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vaelab.cli.choices import CLASSIFIER_STEPS, DECODINGS, DISENTANGLEMENT_VOTES, FILE_SPLITS, METRICS, listed
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option


def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    labels: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt(help=listed(FILE_SPLITS))] = "test",
    metrics: Annotated[
        str | None,
        Opt(help=f"comma-separated: {', '.join(METRICS)}, or all [default: likelihood, latent; m2: accuracy]"),
    ] = None,
    all_metrics: Annotated[bool, Opt("--all", help="every metric that applies to the data")] = False,
    with_disentanglement: Annotated[
        bool, Opt("--disentanglement", help="add MIG, DCI, SAP, BetaVAE and FactorVAE scores (data with factors)")
    ] = False,
    votes: Annotated[
        int, Opt(help="disentanglement: BetaVAE / FactorVAE training groups (disentanglement_lib: 10000)")
    ] = DISENTANGLEMENT_VOTES,
    with_molecules: Annotated[
        bool, Opt("--molecules", help="add MOSES's metrics of molecules sampled from a SMILES or SELFIES model")
    ] = False,
    molecule_samples: Annotated[int, Opt(help="molecules: how many to sample (MOSES: 30000)")] = 30_000,
    with_links: Annotated[
        bool, Opt("--links", help="graph models: ROC-AUC and average precision of the held-out edges")
    ] = False,
    reconstructed_molecules: Annotated[
        int,
        Opt(help="molecules: split molecules of the reconstruction accuracy, 10 x 10 decodings each (JT-VAE: 1000)"),
    ] = 1000,
    num_samples: Annotated[int, Opt(help="importance samples K for the NLL")] = 1000,
    limit: Annotated[int | None, Opt(help="evaluate a seeded random subset of N examples")] = None,
    seed: Annotated[int, Opt(help="seed of the subset and of the estimates")] = 0,
    sample_mean: Annotated[
        bool,
        Opt(help="quality: compare the decoder means E(x|z) instead of samples x ~ p(x|z)"),
    ] = False,
    decoding: Annotated[
        str, Opt(help=f"molecules: how prior codes become tokens: {listed(DECODINGS)} (MOSES: sample)")
    ] = "sample",
    beam_width: Annotated[int, Opt(help="molecules: the beam's width with --decoding beam")] = 5,
    smiles_syntax: Annotated[
        bool, Opt("--smiles-syntax", help="molecules: close every branch and ring bond before the end (SMILES models)")
    ] = False,
    cache_dir: Annotated[Path | None, Opt(help="reference classifier cache (default: vaelab's cache)")] = None,
    classifier_steps: Annotated[
        int, Opt(help="quality: training steps of the reference classifier (compare figures at equal steps)")
    ] = CLASSIFIER_STEPS,
    synthetic: Annotated[
        bool,
        Opt("--synthetic", help="table models: quality of synthetic rows (shapes, trends, efficacy, privacy)"),
    ] = False,
    target: Annotated[str | None, Opt(help="--synthetic: the column the ML efficacy predicts")] = None,
    positive: Annotated[str | None, Opt(help="--synthetic: its positive class [default: the rarest]")] = None,
    rows: Annotated[int | None, Opt(help="--synthetic: rows to sample [default: as many as trained on]")] = None,
    as_json: Annotated[bool, Opt("--json", help="print the result as JSON on stdout")] = False,
) -> None:
    """Likelihood (nats, bits/dim), latent diagnostics, sample quality, latent accuracy and, on data with
    known factors, disentanglement; per-example means are written to RUN_DIR/eval-SPLIT.json,
    per-example values to eval-SPLIT-per-example.npz. With --synthetic (table models): column shapes, column-pair
    trends, ML efficacy and distance to closest record of sampled rows, written to eval-synthetic.json."""
    from vaelab.atomic import atomic_save_npz, atomic_write_text
    from vaelab.cli.common import load_run, run_data, token_decoding
    from vaelab.evaluation import suite
    from vaelab.evaluation.bits import density_note
    from vaelab.evaluation.reference_classifier import ClassifierSettings

    if synthetic:
        from vaelab.cli.evaluate_synthetic import evaluate_synthetic

        if not run_dir.is_dir():
            raise UserError(f"no such run directory: {run_dir}")
        evaluate_synthetic(run_dir, data, target, positive, rows, seed, as_json)
        return
    model = load_run(run_dir)
    dataset = run_data(run_dir, model, data, split, data_dir, labels, limit, seed)
    named = metrics or ",".join(suite.default_metrics(dataset, model))
    flags = {"disentanglement": with_disentanglement, "molecules": with_molecules, "links": with_links}
    extra = "".join(f",{name}" for name, wanted in flags.items() if wanted and name not in named.split(","))
    requested = "all" if all_metrics else named + extra
    names, skipped = suite.resolve_metrics(requested, dataset, model)
    needs_train = bool({"quality", "downstream", "molecules"} & set(names))
    train = run_data(run_dir, model, data, "train", data_dir, labels) if needs_train else None
    if classifier_steps < 1:
        raise UserError("--classifier-steps must be at least 1")
    if votes < 1 or molecule_samples < 1 or reconstructed_molecules < 1:
        raise UserError("--votes, --molecule-samples and --reconstructed-molecules must be at least 1")
    molecule_decoding = token_decoding(decoding, beam_width, smiles_syntax)
    settings = suite.EvalSettings(
        num_samples=num_samples,
        seed=seed,
        sample_mean=sample_mean,
        cache_dir=cache_dir,
        classifier=ClassifierSettings(steps=classifier_steps),
        votes=votes,
        molecule_samples=molecule_samples,
        reconstructed_molecules=reconstructed_molecules,
        molecule_decoding=molecule_decoding,
    )
    result = suite.evaluate(model, dataset, names, train, settings)
    figures = {"split": split, "dataset": dataset.name, **result.figures, "warnings": result.warnings}
    if skipped:
        figures["skipped"] = skipped
    atomic_write_text(run_dir / f"eval-{split}.json", json.dumps(figures, indent=2))
    if result.per_example:
        atomic_save_npz(run_dir / f"eval-{split}-per-example.npz", result.per_example)
    if as_json:
        emit_json(figures)
    else:
        say(f"{dataset.name} {split} ({len(dataset)} examples)")
        for name in names:
            say(f"  {name}: {suite.METRICS[name].line(figures)}")
        note = density_note(model.spec["model"]["likelihood"]["name"], model.spec["levels"])
        if note is not None and figures.get("nll", 0.0) < 0:
            say(f"note: {note}")
        for name, reason in skipped.items():
            say(f"  {name}: skipped ({reason})")
    for warning in result.warnings:
        say(f"warning: {warning}")
