"""One training loop for every variant.

It owns batching (in-memory fast path or DataLoader), seeding, the optimizer and learning-rate schedule,
hyperparameter schedules, gradient clipping, validation with early stopping, atomic checkpoints with
resume (``vaelab.training.checkpoint``; changed settings applied by ``vaelab.training.resume``), a
divergence guard (NaN, or the bound far below the untrained model's), a progress bar and the metrics log.
Loss values stay on the device and are read once per log interval, where the guard looks at them, so there
is no host synchronisation per step (but one, at the first step, for the guard's reference).

Objectives with a discriminator (``AdversarialObjective``: FactorVAE, the adversarial autoencoder) go
through the same loop: after each VAE step the discriminator takes one step with its own optimizer
(``vaelab.training.discriminator``), and both are saved in the checkpoint so a resumed run continues exactly.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from vaelab.data.batch import Batch, graph_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.semi_supervised import labelled_count
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives import AdversarialObjective, BindableObjective, LabelledShareObjective, Objective
from vaelab.training.batches import InMemoryBatches, LoaderBatches
from vaelab.training.checkpoint import Progress, TrainingObjects, restore_training, save_training
from vaelab.training.discriminator import DiscriminatorTraining
from vaelab.training.distributed import Distributed, setup
from vaelab.training.ex_post import fit_ex_post_prior
from vaelab.training.hardware import (
    Precision,
    float32_matmul_precision,
    optimizer_implementation,
    prepare_networks,
    to_memory_format,
    uses_channels_last,
)
from vaelab.training.monitor import monitored_value
from vaelab.training.resume import LENGTH, apply_learning_rate, apply_total_steps, changed_settings
from vaelab.training.run_directory import CHECKPOINT_NAME
from vaelab.training.schedules import Schedule
from vaelab.training.seeding import seed_everything


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"  # "adam" | "adamw"
    weight_decay: float = 0.0
    lr_schedule: str = "constant"  # "constant" | "cosine" (over the steps) | "cosine-time" (over max_minutes)
    grad_clip: float | None = None
    patience: int | None = None  # epochs without improvement of the validation `monitor` before stopping
    monitor: str = "elbo"  # a validation term, higher is better; "-NAME": lower is better ("-loss": the objective)
    seed: int = 0
    device: str = "cpu"
    in_memory: bool = True
    length_buckets: bool = True  # token sequences: batches of rows of similar length (vaelab.training.batches)
    num_workers: int = 0
    log_every: int = 50
    progress: bool = True  # report progress on stderr: one line per epoch (and every LINE_SECONDS within one)
    bar: bool = True  # ... as a live progress bar instead, when stderr is a terminal
    max_steps: int | None = None  # stop after this many optimisation steps (a budget), mid-epoch if need be
    max_minutes: float | None = None  # wall-clock budget for training and validation, summed over resumes
    optimizer_impl: str = "auto"  # "auto" | "foreach" | "fused" (see vaelab.training.hardware)
    compile: bool = False  # torch.compile the encoder and decoder
    channels_last: str = "on"  # "on" | "off": NHWC layout for conv nets
    precision: str = "fp32"  # "fp32" | "bf16" | "fp16" autocast (fp16 with a GradScaler)
    matmul_precision: str = "highest"  # "highest" | "high" | "medium": float32 products (vaelab.training.hardware)
    # semi-supervised data and a model with a classifier: labelled rows added to every batch, beyond those an
    # epoch's permutation brings (0: none; the M2 objective's weights assume none)
    labelled_per_batch: int = 0
    # Polyak averaging: an exponential moving average of the weights with this decay per step (0.999: about the
    # last 1000 steps), which validation measures and the run returns instead of the last weights (None: off)
    ema_decay: float | None = None


@dataclass
class TrainResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    objective: Objective | None = None  # the objective as trained: bound, holding its trained discriminator


class TrainingDiverged(UserError):
    """The loss became NaN or infinite, or the bound fell far below the untrained model's."""


def _make_optimizer(model: torch.nn.Module, settings: TrainSettings, device: torch.device) -> torch.optim.Optimizer:
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if settings.optimizer not in optimizers:
        raise UserError(f"unknown optimizer {settings.optimizer!r}; use one of {sorted(optimizers)}")
    implementation = optimizer_implementation(settings.optimizer_impl, device)
    return optimizers[settings.optimizer](
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, **implementation
    )


def check_lr_schedule(name: str, max_minutes: float | None = None, budget: str | None = "train.max_minutes") -> None:
    """UserError unless ``name`` is one of the trainer's learning-rate schedules, with the budget it needs.
    ``budget`` names the setting of the wall-clock budget where the caller has one; without one (None) the
    time-based schedule is not offered."""
    if budget is None:
        if name not in ("constant", "cosine"):
            raise UserError(f"lr_schedule must be 'constant' or 'cosine' (there is no time budget here), not {name!r}")
        return
    if name not in ("constant", "cosine", "cosine-time"):
        raise UserError(f"lr_schedule must be 'constant', 'cosine' or 'cosine-time', not {name!r}")
    if name == "cosine-time" and max_minutes is None:
        raise UserError(f"lr_schedule 'cosine-time' anneals over a wall-clock budget: set {budget} too")


class BudgetClock:
    """Seconds of training and validation a run has spent, resumes included: what ``max_minutes`` counts."""

    def __init__(self) -> None:
        self.spent_s = 0.0  # the finished epochs' seconds
        self.epoch_started: float | None = None  # perf_counter() at the start of the running epoch

    def start_epoch(self) -> float:
        self.epoch_started = time.perf_counter()
        return self.epoch_started

    def end_epoch(self, seconds: float) -> None:
        self.spent_s += seconds
        self.epoch_started = None

    def seconds(self) -> float:
        running = 0.0 if self.epoch_started is None else time.perf_counter() - self.epoch_started
        return self.spent_s + running


def _make_lr_schedule(
    optimizer: torch.optim.Optimizer, settings: TrainSettings, total_steps: int, clock: BudgetClock
) -> torch.optim.lr_scheduler.LRScheduler:
    """The rate's schedule, stepped once per optimisation step. "cosine" anneals it to 0 over ``total_steps``
    (Loshchilov & Hutter 2017, eq. 5, one cycle); "cosine-time" follows the same curve over the wall-clock
    budget instead, lr_t = lr · (1 + cos(π · min(1, t / budget))) / 2, so it reaches 0 when the budget ends
    whatever the machine's speed."""
    check_lr_schedule(settings.lr_schedule, settings.max_minutes)
    if settings.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps))
    if settings.lr_schedule == "cosine-time":
        budget_s = 60 * cast(float, settings.max_minutes)
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(1.0, clock.seconds() / budget_s)))
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


class _TermSums:
    """Sums of per-example terms kept on the device; read once when a mean is needed."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, loss: torch.Tensor, terms: Mapping[str, torch.Tensor]) -> None:
        n = next(iter(terms.values())).shape[0]
        batch = {"loss": loss.detach() * n, **{k: v.detach().sum() for k, v in terms.items()}}
        for k, v in batch.items():
            self.sums[k] = v if k not in self.sums else self.sums[k] + v
        self.count += n

    def means(self, processes: Distributed = Distributed()) -> dict[str, float]:  # noqa: B008
        """Means over every example seen, by all processes of a distributed run (one host sync)."""
        if not self.sums:
            return {}
        count = torch.tensor(float(self.count), device=next(iter(self.sums.values())).device)
        totals = processes.all_reduce_sum(torch.stack([*self.sums.values(), count]).double())
        values = (totals[:-1] / totals[-1]).cpu()
        return dict(zip(self.sums, values.tolist(), strict=True))


@torch.inference_mode()
def evaluate_objective(
    model: VAE,
    objective: Objective,
    batches: Any,
    processes: Distributed = Distributed(),  # noqa: B008
) -> dict[str, float]:
    """Mean loss and per-example terms of ``objective`` over all ``batches`` (of all processes), without
    recording a graph (an objective that needs gradients inside, as the Hamiltonian VAE's flow, turns them on)."""
    was_training = model.training
    model.eval()
    sums = _TermSums()
    with torch.inference_mode():
        for batch in batches:
            out = objective(model, batch)
            sums.add(out.loss, out.terms)
    model.train(was_training)
    return sums.means(processes)


def fit(
    model: VAE,
    objective: Objective,
    train: ArrayDataset,
    valid: ArrayDataset | None = None,
    settings: TrainSettings = TrainSettings(),
    schedules: Mapping[str, Schedule] | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Callable[[dict[str, Any]], None]] = (),
) -> TrainResult:
    """Train ``model`` in place on ``train`` by minimising ``objective``.

    ``schedules`` maps an objective field (``"beta"``, ``"capacity"``) to a step -> value schedule.
    A ``BindableObjective`` is first bound to the model and the training-set size, a ``LabelledShareObjective``
    to the number of labelled rows; an
    ``AdversarialObjective``'s discriminator is trained by its own optimizer, one step per VAE step.
    With ``run_dir`` the loop writes ``checkpoint.safetensors`` and ``metrics.jsonl`` after every epoch;
    ``resume=True`` continues from that checkpoint. ``settings.matmul_precision`` holds while it runs. At the end
    the model holds the weights of the best validation epoch (the last epoch when there is no validation data),
    and a prior fitted after training (``vaelab.priors.fitted_mixture.ExPostPrior``) is fitted to its codes of
    ``train``.

    Launched by ``torchrun``, each process trains on its slice of every global batch of ``batch_size``
    through ``DistributedDataParallel``; metrics are reduced over processes and only rank 0 writes files.
    """
    with float32_matmul_precision(settings.matmul_precision):
        return _fit(model, objective, train, valid, settings, schedules, run_dir, resume, callbacks)


def _fit(
    model: VAE,
    objective: Objective,
    train: ArrayDataset,
    valid: ArrayDataset | None,
    settings: TrainSettings,
    schedules: Mapping[str, Schedule] | None,
    run_dir: str | Path | None,
    resume: bool,
    callbacks: Sequence[Callable[[dict[str, Any]], None]],
) -> TrainResult:
    schedules = dict(schedules or {})
    for name in schedules:
        if name not in {f.name for f in dataclasses.fields(objective)}:  # type: ignore[arg-type]
            raise UserError(f"cannot schedule {name!r}: {type(objective).__name__} has no such hyperparameter")
    processes, device = setup(settings.device)
    model.to(device)
    channels_last = uses_channels_last(settings.channels_last, model)
    prepare_networks(model, settings.compile, channels_last)
    precision = Precision(settings.precision, device)
    generator = seed_everything(settings.seed)
    if processes.enabled:
        torch.manual_seed(settings.seed + processes.rank)  # the same batches order, each process its own z
    make_batches = _batch_maker(settings, processes, model.classifier is not None)
    train_batches = make_batches(train, settings.batch_size, device, generator)
    valid_batches = None if valid is None else make_batches(valid, max(settings.batch_size, 512), device, None)
    total_steps = settings.epochs * len(train_batches)
    optimizer = _make_optimizer(model, settings, device)
    if processes.enabled and settings.lr_schedule == "cosine-time":
        raise UserError("lr_schedule 'cosine-time' reads each process's own clock: use 'cosine' under torchrun")
    clock = BudgetClock()
    lr_schedule = _make_lr_schedule(optimizer, settings, total_steps, clock)
    if isinstance(objective, BindableObjective):
        objective = objective.bind(model, len(train))
    if isinstance(objective, LabelledShareObjective):
        objective = objective.for_labelled_share(len(train), labelled_count(train.y, len(train)))
    discriminator = DiscriminatorTraining.of(objective, device, processes)
    train_model: Any = processes.wrap(model, device)

    average = _weight_average(model, settings.ema_decay)
    evaluated = model if average is None else cast(VAE, average.module)  # the weights validated and returned
    objects = TrainingObjects(model, optimizer, lr_schedule, precision.scaler, generator, discriminator, average)
    result = TrainResult()
    start_epoch, step, best_value, best_state, initial_elbo = 0, 0, -math.inf, None, None
    changes: dict[str, list[Any]] = {}  # settings changed on resume, recorded in the next epoch's line
    checkpoint_path = None if run_dir is None else Path(run_dir) / CHECKPOINT_NAME
    if resume:
        saved = restore_training(checkpoint_path, objects)
        start_epoch, step, best_value, best_state = saved.epoch, saved.step, saved.best_value, saved.best_model
        initial_elbo = saved.initial_elbo
        if processes.enabled:  # rank 0's sampling state was saved: give every process its own again
            torch.manual_seed(settings.seed + processes.rank + processes.world_size * start_epoch)
        result = TrainResult(saved.history, saved.best_epoch, saved.stopped_early)
        changes = _apply_changes(saved.settings, settings, optimizer, lr_schedule, total_steps)
        if result.stopped_early and LENGTH & changes.keys():
            result.stopped_early = False  # a run stopped by its length or budget goes on with the new one
        if result.stopped_early:
            start_epoch = settings.epochs

    # The wall-clock budget ends an epoch early enough that its validation pass still fits in it.
    budget_s = math.inf if settings.max_minutes is None else 60 * settings.max_minutes
    clock.spent_s = sum(record["time_s"] for record in result.history)
    valid_s = 0.0
    reports = settings.progress and processes.is_main
    live_bar = reports and settings.bar and sys.stderr.isatty()  # a captured stderr gets lines, not a bar
    model.train()
    for epoch in range(start_epoch + 1, settings.epochs + 1):
        started = last_line = clock.start_epoch()
        sums = _TermSums()
        bar = tqdm(
            train_batches,
            desc=f"epoch {epoch}/{settings.epochs}",
            disable=not live_bar,
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )
        hyper: dict[str, float] = {}
        for i, batch in enumerate(bar):
            hyper = {name: schedule(step) for name, schedule in schedules.items()}
            current = dataclasses.replace(objective, **hyper) if hyper else objective  # type: ignore[type-var]
            if channels_last:
                batch = dataclasses.replace(batch, x=to_memory_format(batch.x, channels_last))
            with precision.autocast():
                out = current(train_model, batch)
            if initial_elbo is None:  # the untrained model's bound (the same in every process): the guard's reference
                first = processes.all_reduce_sum(out.terms["elbo"].detach().float().mean().reshape(1))
                initial_elbo = first.item() / processes.world_size
            precision.step(out.loss, optimizer, model, settings.grad_clip)
            lr_schedule.step()
            if average is not None:
                average.update_parameters(model)
            terms = out.terms
            if discriminator is not None:
                discriminator_loss = discriminator.step(cast(AdversarialObjective, current), model, batch)
                terms = {**terms, "discriminator_loss": discriminator_loss.expand(len(batch))}
            sums.add(out.loss, terms)
            step += 1
            out_of_time = clock.seconds() + valid_s >= budget_s
            if out_of_time or (settings.max_steps is not None and step >= settings.max_steps):
                result.stopped_early = True
                break
            if (i + 1) % settings.log_every == 0:  # the one host sync of a log interval, bar or no bar
                means = sums.means(processes)
                _check_health(means, initial_elbo, epoch, checkpoint_path)
                if live_bar:
                    bar.set_postfix(
                        loss=f"{means['loss']:.2f}", rec=f"{means['reconstruction']:.2f}", kl=f"{means['kl']:.2f}"
                    )
                elif reports and time.perf_counter() - last_line >= LINE_SECONDS:
                    last_line = time.perf_counter()
                    print(_describe_steps(epoch, settings.epochs, i + 1, len(train_batches), means), file=sys.stderr)
        bar.close()
        record: dict[str, Any] = {"epoch": epoch, "step": step, "lr": lr_schedule.get_last_lr()[0], **hyper}
        if changes:
            record["changed_on_resume"], changes = changes, {}
        record["train"] = sums.means(processes)
        record["train_time_s"] = round(time.perf_counter() - started, 3)
        _check_health(record["train"], initial_elbo, epoch, checkpoint_path)
        if valid_batches is not None:
            record["valid"] = evaluate_objective(evaluated, objective, valid_batches, processes)
            valid_s = time.perf_counter() - started - record["train_time_s"]
        record["time_s"] = round(time.perf_counter() - started, 3)
        clock.end_epoch(record["time_s"])
        result.history.append(record)

        monitored_terms = record.get("valid", record["train"])
        if settings.monitor.removeprefix("-") not in monitored_terms:
            raise UserError(
                f"train.monitor {settings.monitor!r} is not a term of this objective: use one of "
                f"{sorted(monitored_terms)}, or '-' and one of them for lower is better"
            )
        monitored = monitored_value(monitored_terms, settings.monitor)
        if monitored > best_value:
            best_value, result.best_epoch = monitored, epoch
            best_state = {k: v.detach().clone() for k, v in evaluated.state_dict().items()}
        elif settings.patience is not None and epoch - (result.best_epoch or 0) >= settings.patience:
            result.stopped_early = True
        if reports:
            print(_describe(record, settings.epochs), file=sys.stderr)
        for callback in callbacks:
            callback(record)
        if checkpoint_path is not None and processes.is_main:
            done = Progress(
                epoch,
                step,
                best_value,
                result.best_epoch,
                best_state,
                result.history,
                result.stopped_early,
                settings=dataclasses.asdict(settings),
                initial_elbo=initial_elbo,
            )
            save_training(checkpoint_path, objects, done)
        if result.stopped_early:
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    fit_ex_post_prior(model, train, device)  # a prior fitted to the trained model's codes (RAE), else nothing
    result.objective = objective
    return result


def check_ema_decay(decay: float | None) -> None:
    """UserError unless the weight average's ``decay`` is None (off) or in (0, 1)."""
    if decay is not None and not 0 < decay < 1:
        raise UserError(f"ema_decay must be in (0, 1), not {decay}")


def _weight_average(model: VAE, decay: float | None) -> AveragedModel | None:
    """The exponential moving average of ``model``'s weights and buffers (Polyak & Juditsky 1992), or None."""
    check_ema_decay(decay)
    if decay is None:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _batch_maker(
    settings: TrainSettings, processes: Distributed, learns_labels: bool
) -> Callable[[ArrayDataset, int, torch.device, torch.Generator | None], InMemoryBatches | LoaderBatches | list[Batch]]:
    """In-memory or DataLoader batches, each process taking its slice of every global batch; a graph as one
    batch (its nodes are encoded together). A model that ``learns_labels`` gets ``labelled_per_batch`` labelled
    rows added to each training batch of semi-supervised data."""

    def make(
        data: ArrayDataset, batch_size: int, device: torch.device, generator: torch.Generator | None
    ) -> InMemoryBatches | LoaderBatches | list[Batch]:
        if data.graph is not None:
            if processes.enabled:
                raise UserError("a graph trains as one batch in one process: run it without torchrun")
            return [graph_batch(data, device)]
        shard = {
            "rank": processes.rank,
            "world_size": processes.world_size,
            "labelled_per_batch": settings.labelled_per_batch if learns_labels else 0,
        }
        buckets = settings.length_buckets and generator is not None
        if settings.in_memory:
            return InMemoryBatches(data, batch_size, device, generator, buckets=buckets, **shard)
        workers = settings.num_workers
        return LoaderBatches(data, batch_size, device, generator, num_workers=workers, buckets=buckets, **shard)

    return make


DIVERGENCE_FACTOR = 1000.0
"""A run has diverged when its β = 1 bound falls this many times its untrained size below the untrained
model's bound: training makes the bound better, and no warm-up, capacity ramp or adversarial loss makes
it a thousand times worse than at the start."""


def _check_health(
    means: Mapping[str, float], initial_elbo: float | None, epoch: int, checkpoint_path: Path | None
) -> None:
    """Raise ``TrainingDiverged`` when a loss or term is NaN or infinite, or when the bound ``elbo`` (not the
    scheduled loss) has fallen ``DIVERGENCE_FACTOR`` times its initial size below its initial value."""
    if not all(math.isfinite(v) for v in means.values()):
        what = "the loss became NaN or infinite"
    elif initial_elbo is not None and means["elbo"] < initial_elbo - DIVERGENCE_FACTOR * max(abs(initial_elbo), 1.0):
        what = f"the bound fell from {initial_elbo:.4g} nats per example at the start to {means['elbo']:.4g}"
    else:
        return
    if checkpoint_path is not None and checkpoint_path.exists():
        kept = f"the last good checkpoint is kept at {checkpoint_path}"
        advice = f"continue from it with a lower rate: --resume --out {checkpoint_path.parent} --lr SMALLER"
    else:
        kept = "no checkpoint was written yet"
        advice = "run again with a lower --lr"
    raise TrainingDiverged(
        f"training diverged in epoch {epoch}: {what}; {kept}; {advice}, set --grad-clip, "
        "or check the data for extreme values"
    )


def _apply_changes(
    saved: Mapping[str, Any] | None,
    settings: TrainSettings,
    optimizer: torch.optim.Optimizer,
    lr_schedule: torch.optim.lr_scheduler.LRScheduler,
    total_steps: int,
) -> dict[str, list[Any]]:
    """Apply the settings a resumed run changed (``vaelab.training.resume``) to the restored state."""
    if saved is None:  # a checkpoint that did not record its settings
        return {}
    changes = changed_settings(saved, dataclasses.asdict(settings))
    if "lr" in changes:
        apply_learning_rate(optimizer, lr_schedule, *changes["lr"])
    if "epochs" in changes:
        apply_total_steps(lr_schedule, total_steps)
    return changes


LINE_SECONDS = 30.0
"""Without a live bar, an epoch longer than this also gets a line every this many seconds."""


def _describe_steps(epoch: int, epochs: int, step: int, steps: int, means: Mapping[str, float]) -> str:
    """The line of a long epoch's progress: the running means so far."""
    return (
        f"epoch {epoch}/{epochs} step {step}/{steps}: loss {means['loss']:.3f}  "
        f"reconstruction {means['reconstruction']:.3f}  kl {means['kl']:.3f}"
    )


def _describe(record: Mapping[str, Any], epochs: int) -> str:
    train = record["train"]
    text = f"epoch {record['epoch']}/{epochs}: loss {train['loss']:.3f}  elbo {train['elbo']:.3f}  kl {train['kl']:.3f}"
    if "valid" in record:
        text += f"  | valid elbo {record['valid']['elbo']:.3f}"
    return text + f"  ({record['time_s']:.1f}s)"
