"""The detector's defaults: its score, and the architecture and training length chosen from the data's size,
so a new table needs no tuning.

The rules (measured on the ADBench tables; see bench/anomaly/results.md):
- tables with D model-space columns: one hidden layer of ``clip(next power of two >= 2 D, 64, 256)`` units
  and ``clip(ceil(D / 4), 2, 8)`` latent dimensions: a small model, so that it cannot also fit the
  anomalies among the unlabelled training rows;
- images: a small conv encoder/decoder (``IMAGE_CHANNELS``) and ``IMAGE_LATENT`` latent dimensions;
- batches of ``clip(N // 16, 16, 128)`` rows and enough epochs for about ``TARGET_STEPS`` optimisation
  steps, between ``MIN_EPOCHS`` and ``MAX_EPOCHS``.
"""

from __future__ import annotations

import math

DEFAULT_SCORE = "elbo"
"""The default score (see bench/anomaly/results.md): the rate ("kl") ranks the ADBench tables better, but it
misses rows off the data manifold and fails on one-class digits, which the ELBO catches."""
TARGET_STEPS = 3000
MIN_EPOCHS, MAX_EPOCHS = 20, 400
MIN_BATCH, MAX_BATCH = 16, 128
MIN_WIDTH, MAX_WIDTH = 64, 256
MIN_LATENT, MAX_LATENT = 2, 8
IMAGE_CHANNELS = (16, 32, 32)
IMAGE_HIDDEN = 128
IMAGE_LATENT = 16


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def table_hidden_dims(num_features: int) -> list[int]:
    return [_clip(1 << math.ceil(math.log2(2 * max(1, num_features))), MIN_WIDTH, MAX_WIDTH)]


def table_latent_dim(num_features: int) -> int:
    return _clip(math.ceil(num_features / 4), MIN_LATENT, MAX_LATENT)


def batch_size(num_rows: int) -> int:
    return _clip(num_rows // 16, MIN_BATCH, MAX_BATCH)


def epochs(num_rows: int, batch: int) -> int:
    steps_per_epoch = math.ceil(num_rows / batch)
    return _clip(math.ceil(TARGET_STEPS / steps_per_epoch), MIN_EPOCHS, MAX_EPOCHS)
