"""TensorBoard logging of a training run: a callback of :func:`vaelab.training.trainer.fit`.

After each epoch, at the global step ``record["step"]``, it writes the scalars

- ``train/<term>`` and ``valid/<term>``: the epoch's mean of every term (``loss``, ``elbo``, ``reconstruction``,
  ``kl``, ...);
- ``hparams/lr`` and ``hparams/<name>`` for every scheduled hyperparameter (``beta``, ``capacity``, ...);
- ``time/epoch_s`` and ``time/train_s``: the epoch's seconds with and without validation;

and every ``snapshot_every`` epochs a snapshot of the model:

- ``samples``: decoded draws from the prior, for image models (one row per class for a class-conditional one;
  none for a model conditioned on vectors, which has no condition to draw with);
- ``latent/mean``: a histogram of the posterior means E_q[z|x] of the fixed ``examples`` (not for a graph,
  whose nodes are encoded together).

A snapshot runs in eval mode under a forked RNG seeded with ``SNAPSHOT_SEED``: every snapshot decodes the
same draws, so the grids show the model changing, and the run trains to the same weights with or without
the logger. ``torch.utils.tensorboard`` is imported by the constructor: TensorBoard is an optional extra.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import torch

from vaelab.data.batch import dataset_batches
from vaelab.errors import UserError

if TYPE_CHECKING:
    from vaelab.data.dataset import ArrayDataset
    from vaelab.models import VAE

MISSING_PACKAGE = "TensorBoard logging needs the tensorboard package: pip install 'vaelab[tensorboard]'"
NOT_HYPERPARAMETERS = frozenset({"epoch", "step", "train_time_s", "time_s"})
"""Numbers at the top of an epoch's record that are no hyperparameters; each other one is ``hparams/<name>``."""
TIMES = {"time_s": "time/epoch_s", "train_time_s": "time/train_s"}
SNAPSHOT_SEED = 0
NUM_SAMPLES = 64
GRID_COLUMNS = 8  # SummaryWriter.add_images tiles a batch 8 images to a row
ENCODE_BATCH = 512


class TensorBoardLogger:
    """Writes the event files of a run of ``model`` to ``log_dir``; call it with each epoch's record, then
    ``close()`` it (or use it as a context manager). ``examples``: the fixed rows whose posterior means are
    histogrammed (bound their number: they are encoded at every snapshot); None: no histogram."""

    def __init__(
        self,
        log_dir: str | Path,
        model: VAE,
        examples: ArrayDataset | None = None,
        *,
        snapshot_every: int = 1,
    ) -> None:
        if snapshot_every < 1:
            raise UserError(f"the TensorBoard snapshot interval must be at least 1 epoch, got {snapshot_every}")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise UserError(MISSING_PACKAGE) from error
        self.writer = SummaryWriter(log_dir=str(log_dir))
        self.model = model
        self.examples = None if model.data_kind == "graph" else examples
        self.snapshot_every = snapshot_every
        self.draws_samples = model.data_kind == "image" and (bool(model.num_classes) or not model.is_conditional)

    def __call__(self, record: dict[str, Any]) -> None:
        step = record["step"]
        for split in ("train", "valid"):
            for term, value in record.get(split, {}).items():
                self.writer.add_scalar(f"{split}/{term}", value, step)
        for name, value in record.items():
            if isinstance(value, int | float) and name not in NOT_HYPERPARAMETERS:
                self.writer.add_scalar(f"hparams/{name}", value, step)
        for key, tag in TIMES.items():
            self.writer.add_scalar(tag, record[key], step)
        if record["epoch"] % self.snapshot_every == 0:
            self._snapshot(step)
        self.writer.flush()

    def close(self) -> None:
        """Flush the event files and close them."""
        self.writer.close()

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    @torch.inference_mode()
    def _snapshot(self, step: int) -> None:
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        forked_devices = [] if device.type == "cpu" else [device]
        try:
            with torch.random.fork_rng(forked_devices, device_type=device.type):
                torch.manual_seed(SNAPSHOT_SEED)
                if self.draws_samples:
                    self.writer.add_images("samples", self._prior_samples(device).float().cpu(), step)
                if self.examples is not None:
                    self.writer.add_histogram("latent/mean", self._posterior_means(device).flatten().cpu(), step)
        finally:
            self.model.train(was_training)

    def _prior_samples(self, device: torch.device) -> torch.Tensor:
        """``(N, C, H, W)`` decoded draws; one or three channels, as TensorBoard shows them."""
        if self.model.num_classes:
            labels = torch.arange(self.model.num_classes, device=device).repeat_interleave(GRID_COLUMNS)
            images = self.model.sample(len(labels), y=labels)
        else:
            images = self.model.sample(NUM_SAMPLES)
        return images if images.shape[1] in (1, 3) else images[:, :1]

    def _posterior_means(self, device: torch.device) -> torch.Tensor:
        """``(N, D)`` posterior means of the examples, each read from its observed entries."""
        assert self.examples is not None
        batches = dataset_batches(self.examples, ENCODE_BATCH, device)
        return torch.cat([self.model.encode(batch.x, batch.y, batch.mask).mean for batch in batches])
