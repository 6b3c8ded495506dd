"""The detector's defaults: its score, and the architecture and training length chosen from the data's size
and kind, so a new table needs no tuning.

Tables: chosen by leave-tables-out over the 29 ADBench tables (bench/anomaly/leave_tables_out.py and its
results file): each candidate measured on every table with five seeds, picked on some tables and measured
on the others, so the reported figure is one the defaults did not see.
- one hidden layer of ``clip(next power of two >= 2 D, 64, 256)`` units and ``clip(ceil(D / 4), 4, 8)``
  latent dimensions for D model-space columns;
- at most ``MAX_TRAIN_ROWS`` training rows (a seeded subsample of larger tables: the fit's length does not
  grow with the table, so more rows would not be seen more than once);
- ``TABLE_STEPS`` optimisation steps of ``TABLE_BATCH`` rows (or all rows, for smaller tables) at learning
  rate ``TABLE_LR``, cosine-annealed; then a second fit of as many steps on all but the ``TABLE_TRIM``
  fraction of the training rows the first fit scores lowest (a trimmed likelihood: the anomalies among the
  unlabelled training rows are left out of the model the rows are scored with);
- ``TABLE_MODELS`` independently seeded VAEs, each fitted so, whose scores are averaged (an ensemble);
- the score: ``TABLE_RATE_WEIGHT``.

Images (chosen in bench/anomaly/results.md, fifth study, on one-class MNIST): a small conv encoder/decoder
(``IMAGE_CHANNELS``) with ``IMAGE_LATENT`` latent dimensions, batches of ``clip(N // 16, 16, 128)`` rows,
enough epochs for about ``IMAGE_STEPS`` steps (between ``MIN_EPOCHS`` and ``MAX_EPOCHS``) at ``IMAGE_LR``, no
trimming, one model, and the rate weight ``IMAGE_RATE_WEIGHT``.
"""

from __future__ import annotations

import math

DEFAULT_SCORE = "rate-weighted"
TABLE_RATE_WEIGHT, IMAGE_RATE_WEIGHT = 1.0, 4.0
"""The default score is ``E_q log p(x|z) - w KL(q(z|x) || p(z))``; w = 1 is the ELBO, a larger w ranks rows
more by their rate (the nats their code costs)."""
MAX_TRAIN_ROWS = 10_000
TABLE_STEPS, IMAGE_STEPS = 100, 3_000
TABLE_BATCH = 256
TABLE_LR, IMAGE_LR = 1e-2, 1e-3
TABLE_TRIM, IMAGE_TRIM = 0.2, 0.0
TABLE_MODELS, IMAGE_MODELS = 2, 1
MIN_EPOCHS, MAX_EPOCHS = 20, 400
MIN_BATCH, MAX_BATCH = 16, 128
MIN_WIDTH, MAX_WIDTH = 64, 256
MIN_LATENT, MAX_LATENT = 4, 8
IMAGE_CHANNELS = (16, 32, 32)
IMAGE_HIDDEN = 128
IMAGE_LATENT = 16


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def table_hidden_dims(num_features: int) -> list[int]:
    return [_clip(1 << math.ceil(math.log2(2 * max(1, num_features))), MIN_WIDTH, MAX_WIDTH)]


def table_latent_dim(num_features: int) -> int:
    return _clip(math.ceil(num_features / 4), MIN_LATENT, MAX_LATENT)


def batch_size(num_rows: int, images: bool) -> int:
    return _clip(num_rows // 16, MIN_BATCH, MAX_BATCH) if images else min(TABLE_BATCH, num_rows)


def epochs(num_rows: int, batch: int, images: bool, steps: int | None = None) -> int:
    """Epochs for about ``IMAGE_STEPS`` (images, within ``MIN_EPOCHS``..``MAX_EPOCHS``) or at least
    ``steps`` (tables; None: ``TABLE_STEPS``) optimisation steps of ``batch`` rows."""
    steps_per_epoch = math.ceil(num_rows / batch)
    if images:
        return _clip(math.ceil(IMAGE_STEPS / steps_per_epoch), MIN_EPOCHS, MAX_EPOCHS)
    return max(1, math.ceil((TABLE_STEPS if steps is None else steps) / steps_per_epoch))


def rate_weight(images: bool) -> float:
    return IMAGE_RATE_WEIGHT if images else TABLE_RATE_WEIGHT


def learning_rate(images: bool) -> float:
    return IMAGE_LR if images else TABLE_LR


def trim(images: bool) -> float:
    return IMAGE_TRIM if images else TABLE_TRIM


def models(images: bool) -> int:
    return IMAGE_MODELS if images else TABLE_MODELS
