"""``vaelab train``: resolve the config from file + flags + --set, train, save, draw pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.cli.choices import KINDS, KL_SCHEDULES, LIKELIHOODS, NETWORKS, PRECISIONS, listed
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option
KIND_HELP = f"kind of data: {listed(KINDS)} (default: detected, (C, H, W) image, (D,) table)"


def _parse_ints(text: str, flag: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UserError(f"{flag} expects comma-separated integers such as 512,256; got {text!r}") from None


def train(
    config: Annotated[Path | None, Opt("--config", help="YAML config file")] = None,
    assignments: Annotated[list[str] | None, Opt("--set", help="override: key=value, e.g. train.epochs=3")] = None,
    data: Annotated[str | None, Opt(help="dataset name or .npy/.npz/.csv path (default: digits)")] = None,
    data_dir: Annotated[str | None, Opt(help="data folder (default: $VAELAB_DATA_DIR)")] = None,
    labels: Annotated[str | None, Opt(help="label column (.csv) or array key (.npz)")] = None,
    num_labelled: Annotated[
        int | None, Opt(help="semi-supervised (--model m2): keep N training labels, balanced by class; hide the rest")
    ] = None,
    label_seed: Annotated[int | None, Opt(help="the seed of the --num-labelled draw (default 0)")] = None,
    kind: Annotated[str | None, Opt(help=KIND_HELP)] = None,
    tokens: Annotated[
        str | None, Opt(help="sequences: smiles | selfies | chars (default: smiles for molecules)")
    ] = None,
    column: Annotated[str | None, Opt(help="sequences: the .csv column holding them")] = None,
    limit: Annotated[int | None, Opt(help="sequences: a seeded random subset of N per split")] = None,
    node_features: Annotated[str | None, Opt(help="graphs: a .npy or .csv of node features, one row per node")] = None,
    model: Annotated[str | None, Opt(help="model preset (list them: vaelab config models)")] = None,
    likelihood: Annotated[str | None, Opt(help=f"auto | {listed(LIKELIHOODS)}")] = None,
    network: Annotated[str | None, Opt(help=f"auto | {listed(NETWORKS)}")] = None,
    latent_dim: Annotated[int | None, Opt(help="latent dimensions")] = None,
    hidden_dims: Annotated[str | None, Opt(help="MLP hidden sizes, e.g. 400 or 512,256")] = None,
    mask_input: Annotated[
        bool | None, Opt("--mask-input/--no-mask-input", help="missing values: the encoder also reads the mask")
    ] = None,
    fill: Annotated[str | None, Opt(help="missing values: what the encoder reads there, zero | mean")] = None,
    epochs: Annotated[int | None, Opt()] = None,
    batch_size: Annotated[int | None, Opt()] = None,
    lr: Annotated[float | None, Opt(help="learning rate")] = None,
    beta: Annotated[float | None, Opt(help="KL weight")] = None,
    num_samples: Annotated[int | None, Opt(help="IWAE samples K")] = None,
    free_bits: Annotated[float | None, Opt(help="free bits per latent dimension (nats)")] = None,
    capacity: Annotated[float | None, Opt(help="KL capacity target C (nats)")] = None,
    kl_schedule: Annotated[str | None, Opt(help=listed(KL_SCHEDULES))] = None,
    warmup_epochs: Annotated[float | None, Opt(help="epochs of linear KL warm-up")] = None,
    grad_clip: Annotated[float | None, Opt(help="clip the gradient norm")] = None,
    patience: Annotated[int | None, Opt(help="early stopping patience (epochs)")] = None,
    seed: Annotated[int | None, Opt()] = None,
    device: Annotated[str | None, Opt(help="cpu | cuda | cuda:N")] = None,
    precision: Annotated[str | None, Opt(help=f"{listed(PRECISIONS)} (mixed precision, mainly for GPUs)")] = None,
    compile_networks: Annotated[
        bool | None, Opt("--compile/--no-compile", help="torch.compile the encoder and decoder")
    ] = None,
    out: Annotated[Path | None, Opt(help="run directory (default: a new folder under runs/)")] = None,
    resume: Annotated[bool, Opt(help="continue the run in --out from its checkpoint")] = False,
    report: Annotated[bool, Opt(help="write pictures and report.html at the end")] = True,
    tensorboard: Annotated[
        bool, Opt("--tensorboard", help="also log to RUN_DIR/tensorboard: pip install 'vaelab[tensorboard]'")
    ] = False,
    progress: Annotated[
        bool, Opt(help="a live progress bar on a terminal (else, and with --no-progress, one line per epoch)")
    ] = True,
    as_json: Annotated[bool, Opt("--json", help="print the result as JSON on stdout")] = False,
) -> None:
    """Train a VAE and write its run directory (config, weights, metrics, checkpoint, pictures)."""
    from vaelab.config.files import (
        CONFIG_NAME,
        parse_assignments,
        read_run_config,
        read_yaml,
        resolve_config,
        set_dotted,
    )
    from vaelab.config.graphs import graph_options
    from vaelab.config.run import train_from_config
    from vaelab.data.graphs import cleaning_note, is_graph, load_graph
    from vaelab.data.registry import resolve_data_dir
    from vaelab.evaluation.bits import density_note

    flags: dict[str, Any] = {}
    for key, value in {
        "data.name": data,
        "data.data_dir": data_dir,
        "data.labels": labels,
        "data.num_labelled": num_labelled,
        "data.label_seed": label_seed,
        "data.kind": kind,
        "data.tokens": tokens,
        "data.column": column,
        "data.limit": limit,
        "data.node_features": node_features,
        "model.preset": model,
        "model.likelihood.name": likelihood,
        "model.network.name": network,
        "model.latent_dim": latent_dim,
        "model.network.hidden_dims": None if hidden_dims is None else _parse_ints(hidden_dims, "--hidden-dims"),
        "model.mask_input": mask_input,
        "model.fill": fill,
        "train.epochs": epochs,
        "train.batch_size": batch_size,
        "train.lr": lr,
        "objective.beta": beta,
        "objective.num_samples": num_samples,
        "objective.free_bits": free_bits,
        "objective.capacity": capacity,
        "schedule.kl": kl_schedule,
        "schedule.warmup_epochs": warmup_epochs,
        "train.grad_clip": grad_clip,
        "train.patience": patience,
        "train.seed": seed,
        "train.device": device,
        "train.precision": precision,
        "train.compile": compile_networks,
    }.items():
        if value is not None:
            set_dotted(flags, key, value)
    if not report:
        flags["report"] = False
    if tensorboard:
        flags["tensorboard"] = True
    layers: list[dict[str, Any]] = []
    if resume:
        if out is None or not (out / CONFIG_NAME).is_file():
            raise UserError("--resume needs --out pointing at an existing run directory (with config.yaml)")
        layers.append(read_run_config(out).model_dump())
    if config is not None:
        layers.append(read_yaml(config))
    resolved = resolve_config(*layers, flags, parse_assignments(assignments or []))

    if is_graph(resolved.data.name, resolved.data.kind):  # say what reading the graph cleaned, before training
        graph = load_graph(resolved.data.name, resolve_data_dir(resolved.data.data_dir), graph_options(resolved.data))
        note = cleaning_note(graph)
        if note is not None:
            say(note)
    run = train_from_config(resolved, out, resume=resume, bar=progress)
    if not run.is_main:
        return
    last = run.result.history[-1] if run.result.history else {}
    summary = {
        "run_dir": str(run.run_dir),
        "epochs_run": len(run.result.history),
        "best_epoch": run.result.best_epoch,
        "stopped_early": run.result.stopped_early,
        "train": last.get("train", {}),
        "valid": last.get("valid", {}),
        "pictures": [str(p) for p in run.pictures],
    }
    if run.train.features is not None and run.valid is not None:  # a table: is the model worth more than marginals?
        from vaelab.evaluation.table_marginals import compare_with_marginals

        comparison = compare_with_marginals(run.model, run.train, run.valid)
        summary["valid_marginals"] = {"bound": comparison.bound, "marginals": comparison.marginals}
        say(("warning: " if comparison.worse else "") + comparison.message())
    note = density_note(run.model.spec["model"]["likelihood"]["name"], run.model.spec["levels"])
    bound = (last.get("valid") or last.get("train") or {}).get("elbo")
    if note is not None and bound is not None and bound > 0:
        say(f"note: {note}")
    if as_json:
        emit_json(summary)
    else:
        say(f"run written to {run.run_dir}")
