"""A training run from a resolved config: load data, build parts, validate, train, save.

Everything that can fail on bad input (data, config, model spec, data support) is checked before the
run directory is created, so a rejected run leaves nothing behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from vaelab.config.build import build_model, build_objective, build_schedules, model_spec
from vaelab.config.files import write_config
from vaelab.config.schema import RunConfig, TrainConfig
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.training import TrainResult, TrainSettings, fit
from vaelab.training.distributed import setup

CHECK_CHUNK = 4096
# With no --epochs, train for at least this many optimisation steps (10 to 200 epochs): enough for a
# small dataset such as digits to give recognisable samples, and 10 epochs on MNIST-sized data.
AUTO_STEPS = 1500


def auto_epochs(num_examples: int, batch_size: int) -> int:
    steps_per_epoch = -(-num_examples // batch_size)
    return max(10, min(200, -(-AUTO_STEPS // steps_per_epoch)))


@dataclass
class TrainedRun:
    run_dir: Path
    model: VAE
    result: TrainResult
    config: RunConfig
    train: ArrayDataset
    valid: ArrayDataset | None
    is_main: bool = True  # False in the other processes of a torchrun launch: they write nothing


RUN_ONLY_FIELDS = frozenset({"threads"})
"""``train`` fields a run applies itself (torch's thread count) rather than passing to ``fit``."""


def train_settings(train: TrainConfig, progress: bool) -> TrainSettings:
    """The loop's settings: every ``train`` field of the config under the same name, and the progress bar."""
    values = train.model_dump(exclude=set(RUN_ONLY_FIELDS))
    return TrainSettings(**values, progress=progress)


def check_dataset(model: VAE, data: ArrayDataset) -> None:
    """Shape, finiteness and likelihood support of a whole dataset, in chunks."""
    for chunk in data.row_chunks(CHECK_CHUNK):
        model.check_data(to_model_space(torch.from_numpy(chunk), data.levels))


def default_run_dir(config: RunConfig) -> Path:
    name = Path(config.data.name).stem if "/" in config.data.name or "." in config.data.name else config.data.name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{stamp}-{config.model.preset}-{name}"
    candidate, i = base, 1
    while candidate.exists():
        candidate, i = base.with_name(f"{base.name}-{i}"), i + 1
    return candidate


def load_split(config: RunConfig, split: str) -> ArrayDataset:
    return load_dataset(config.data.name, split, config.data.data_dir, config.data.labels, config.data.kind)


def train_from_config(
    config: RunConfig, out: Path | None = None, resume: bool = False, progress: bool = True
) -> TrainedRun:
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    train = load_split(config, "train")
    valid_split = load_split(config, "valid")
    valid = valid_split if len(valid_split) else None
    epochs = config.train.epochs or auto_epochs(len(train), config.train.batch_size)
    config = config.model_copy(update={"train": config.train.model_copy(update={"epochs": epochs})})
    torch.manual_seed(config.train.seed)  # the initial weights are part of a seeded run
    model = build_model(model_spec(config.model, train))
    objective = build_objective(config.objective, config.model.preset)
    check_dataset(model, train)
    if valid is not None:
        check_dataset(model, valid)
    steps_per_epoch = -(-len(train) // config.train.batch_size)
    schedules = build_schedules(config.schedule, objective, steps_per_epoch, epochs, preset_name=config.model.preset)

    processes, _ = setup(config.train.device)  # joins the process group when launched by torchrun
    run_dir: Path = processes.broadcast(out or default_run_dir(config))
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--out {run_dir} is a file, not a folder; give a new or existing run directory")
    if not resume and run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    processes.barrier()  # every process has checked the directory before rank 0 writes into it
    if processes.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, config)
    settings = train_settings(config.train, progress)
    result = fit(model, objective, train, valid, settings, schedules, run_dir=run_dir, resume=resume)
    if processes.is_main:
        model.save(run_dir)
    processes.close()
    return TrainedRun(run_dir, model, result, config, train, valid, processes.is_main)
