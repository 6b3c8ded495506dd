"""A training run from a resolved config: load data, build parts, validate, train, save, report.

Everything that can fail on bad input (data, config, model spec, data support) is checked before the
run directory is created, so a rejected run leaves nothing behind. The run then holds its directory's
lock (``vaelab.training.run_directory``) from the first write to the last, report included; a resumed run
may change only what ``check_resume`` allows.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaelab.config.build import (
    automatic_data_parts,
    build_model,
    build_objective,
    build_schedules,
    model_spec,
    preset,
)
from vaelab.config.files import read_run_config, write_config
from vaelab.config.graphs import graph_options
from vaelab.config.schema import DataConfig, RunConfig, TrainConfig
from vaelab.config.sequences import sequence_options
from vaelab.data.dataset import ArrayDataset
from vaelab.data.edge_split import SPLIT_NAME
from vaelab.data.graphs import seeded_split
from vaelab.data.registry import load_dataset, resolve_data_dir
from vaelab.data.semi_supervised import keep_labelled
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.report.build import write_pictures_and_report
from vaelab.training import TrainResult, TrainSettings, fit
from vaelab.training.distributed import Distributed, setup
from vaelab.training.hardware import subnormals_flushed
from vaelab.training.resume import changed_settings
from vaelab.training.run_directory import RunDirectory
from vaelab.training.tensorboard import TensorBoardLogger
from vaelab.training.trainer import check_lr_schedule

# With no --epochs, train for at least this many optimisation steps (10 to 200 epochs): enough for a
# small dataset such as digits to give recognisable samples, and 10 epochs on MNIST-sized data.
AUTO_STEPS = 1500


GRAPH_LR = 0.01  # a graph trains on the whole graph at every step: Kipf & Welling 2016's rate and 200 steps


def steps_per_epoch(data: ArrayDataset, batch_size: int) -> int:
    """Optimisation steps in one pass over ``data``: one for a graph (trained whole), else one per batch."""
    return 1 if data.graph is not None else -(-len(data) // batch_size)


def auto_epochs(steps: int) -> int:
    """Epochs of ``steps`` steps each that make at least ``AUTO_STEPS`` steps, from 10 to 200."""
    return max(10, min(200, -(-AUTO_STEPS // steps)))


@dataclass
class TrainedRun:
    run_dir: Path
    model: VAE
    result: TrainResult
    config: RunConfig
    train: ArrayDataset
    valid: ArrayDataset | None
    pictures: list[Path]  # written by the report, if the config asks for it
    is_main: bool = True  # False in the other processes of a torchrun launch: they write nothing


RUN_ONLY_FIELDS = frozenset({"threads", "flush_subnormals"})
"""``train`` fields a run applies itself, for the whole process, rather than passing to ``fit``: torch's thread
count, and whether subnormal floats count as zero (set before torch starts its threads)."""


def train_settings(train: TrainConfig, progress: bool, bar: bool = True) -> TrainSettings:
    """The loop's settings: every ``train`` field of the config under the same name, and how it reports progress
    (``progress``: at all; ``bar``: as a live bar on a terminal rather than lines)."""
    values = train.model_dump(exclude=set(RUN_ONLY_FIELDS))
    return TrainSettings(**values, progress=progress, bar=bar)


def default_run_dir(config: RunConfig) -> Path:
    name = Path(config.data.name).stem if "/" in config.data.name or "." in config.data.name else config.data.name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{stamp}-{config.model.preset}-{name}"
    candidate, i = base, 1
    while candidate.exists():
        candidate, i = base.with_name(f"{base.name}-{i}"), i + 1
    return candidate


def load_split(config: RunConfig, split: str) -> ArrayDataset:
    data = config.data
    return load_dataset(
        data.name, split, data.data_dir, data.labels, data.kind, sequence_options(data), graph_options(data)
    )


def labelled_subset(train: ArrayDataset, data: DataConfig) -> ArrayDataset:
    """The training split with only ``data.num_labelled`` of its labels kept (balanced, seeded by
    ``data.label_seed``) when the config asks for it, for semi-supervised experiments."""
    if data.num_labelled is None:
        return train
    if train.y is None or train.num_classes is None:
        raise UserError(f"--num-labelled needs class labels: {data.name} has none (pass --labels COLUMN)")
    return replace(train, y=keep_labelled(train.y, data.num_labelled, data.label_seed, train.num_classes))


def train_from_config(
    config: RunConfig, out: Path | None = None, resume: bool = False, progress: bool = True, bar: bool = True
) -> TrainedRun:
    """Train, save and report the run ``config`` describes (``vaelab train``), in ``out`` or a new run folder."""
    with subnormals_flushed(config.train.flush_subnormals):  # before the first torch operation starts its threads
        return _train_from_config(config, out, resume, progress, bar)


def _train_from_config(config: RunConfig, out: Path | None, resume: bool, progress: bool, bar: bool) -> TrainedRun:
    check_lr_schedule(config.train.lr_schedule, config.train.max_minutes)  # before the data are read
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    train = labelled_subset(load_split(config, "train"), config.data)
    valid_split = load_split(config, "valid")
    valid = valid_split if len(valid_split) else None
    steps = steps_per_epoch(train, config.train.batch_size)
    epochs = config.train.epochs or auto_epochs(steps)
    is_graph = train.graph is not None
    lr = config.train.lr or (GRAPH_LR if is_graph else 1e-3)
    monitor = config.train.monitor or ("reconstruction" if is_graph else preset(config.model.preset).monitor)
    resolved = {"epochs": epochs, "lr": lr, "monitor": monitor}
    automatic = automatic_data_parts(config.model, train)
    if config.train.epochs is None:
        automatic["epochs"] = (str(epochs), f"{steps} steps each, at least {AUTO_STEPS} steps in all")
    config = config.model_copy(update={"train": config.train.model_copy(update=resolved)})
    torch.manual_seed(config.train.seed)  # the initial weights are part of a seeded run
    model = build_model(model_spec(config.model, train))
    objective = build_objective(config.objective, config.model.preset)
    model.check_dataset(train)
    if valid is not None:
        model.check_dataset(valid)
    schedules = build_schedules(config.schedule, objective, steps, epochs, preset_name=config.model.preset)

    processes, _ = setup(config.train.device)  # joins the process group when launched by torchrun
    run_dir: Path = processes.broadcast(out or default_run_dir(config))
    directory, resume = _claim(run_dir, resume, processes)
    with directory:
        if resume:
            check_resume(read_run_config(run_dir), config)
        processes.barrier()  # every process has checked the run before rank 0 writes into it
        if processes.is_main:
            write_config(run_dir, config)
            if is_graph:  # evaluation scores exactly the edges this run held out
                seeded_split(config.data.name, resolve_data_dir(config.data.data_dir), graph_options(config.data)).save(
                    run_dir / SPLIT_NAME
                )
        settings = train_settings(config.train, progress, bar)
        if progress and processes.is_main:
            print(opening_line(config, model, train, valid, automatic), file=sys.stderr)
        with contextlib.ExitStack() as logging:
            callbacks = []
            if config.tensorboard and processes.is_main:
                callbacks.append(logging.enter_context(tensorboard_logger(run_dir, model, valid or train)))
            result = fit(model, objective, train, valid, settings, schedules, run_dir, resume, callbacks)
        pictures: list[Path] = []
        if processes.is_main:
            model.save(run_dir)
            if config.report:
                pictures = write_pictures_and_report(model, valid or train, run_dir)
    processes.close()
    return TrainedRun(run_dir, model, result, config, train, valid, pictures, processes.is_main)


TENSORBOARD_EXAMPLES = 512  # rows whose posterior means TensorBoard's latent histogram shows


def tensorboard_logger(run_dir: Path, model: VAE, data: ArrayDataset) -> TensorBoardLogger:
    """The run's TensorBoard logger, writing to ``RUN_DIR/tensorboard``, with a seeded subset of ``data`` for
    the latent histogram."""
    rows = np.random.default_rng(0).choice(len(data), size=min(TENSORBOARD_EXAMPLES, len(data)), replace=False)
    examples = None if data.graph is not None else data.subset(np.sort(rows))
    return TensorBoardLogger(run_dir / "tensorboard", model, examples)


def opening_line(
    config: RunConfig,
    model: VAE,
    train: ArrayDataset,
    valid: ArrayDataset | None,
    automatic: Mapping[str, tuple[str, str]],
) -> str:
    """The run's first line: what is trained on what, and what ``auto`` chose and why, e.g. ``training vae on
    digits (1437 train, 180 valid): likelihood continuous-bernoulli (auto: 17 levels scaled to [0, 1]), …``."""
    parts = model.spec["model"]

    def shown(field: str, value: str) -> str:
        return f"{field} {value}" + (f" (auto: {automatic[field][1]})" if field in automatic else "")

    sizes = f"{len(train)} train" + ("" if valid is None else f", {len(valid)} valid")
    return (
        f"training {config.model.preset} on {Path(config.data.name).name} ({sizes}): "
        f"{shown('likelihood', parts['likelihood']['name'])}, {shown('network', parts['network']['name'])}, "
        f"latent dim {model.latent_dim}, {shown('epochs', str(config.train.epochs))}"
    )


def _claim(
    run_dir: Path, resume: bool, processes: Distributed
) -> tuple[contextlib.AbstractContextManager[object], bool]:
    """Rank 0 takes the run directory's lock (``RunDirectory.claim``) and tells every process whether the run
    continues from its checkpoint, or the one-line reason it may not run."""
    claimed: RunDirectory | None = None
    outcome: tuple[bool, str | None, str | None] | None = None
    if processes.is_main:
        try:
            claimed = RunDirectory.claim(run_dir, resume)
            outcome = (claimed.resume, claimed.notice, None)
        except UserError as error:
            outcome = (False, None, str(error))
    continues, notice, refusal = processes.broadcast(outcome)
    if refusal is not None:
        raise UserError(refusal)
    if notice is not None and processes.is_main:
        print(notice, file=sys.stderr)
    return claimed or contextlib.nullcontext(), continues


RESUME_MAY_CHANGE = frozenset({"report", "tensorboard", "data.data_dir"})
"""Config keys outside ``train`` that a resumed run may change: none changes what is trained."""


def check_resume(stored: RunConfig, config: RunConfig) -> None:
    """Refuse, with one line naming the key, a resumed run whose config changes what the run trains; the
    ``train`` settings go through the trainer's own rule (``vaelab.training.resume``)."""
    before, after = _flatten(stored.model_dump()), _flatten(config.model_dump())
    for key in sorted(before.keys() | after.keys()):
        if key.startswith("train.") or key in RESUME_MAY_CHANGE or before.get(key) == after.get(key):
            continue
        raise UserError(
            f"--resume cannot change {key} ({before.get(key)!r} in the run, {after.get(key)!r} now): it would be "
            "another run; resume without changing it, or start a new run with another --out"
        )
    changed_settings(asdict(train_settings(stored.train, False)), asdict(train_settings(config.train, False)), "train.")


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
