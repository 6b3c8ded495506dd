"""The detector's defaults: its score, and the architecture and training length chosen from the data's size,
so a new table needs no tuning.

The rules, chosen on the ADBench tables (the figures are in bench/anomaly/results.md):
- tables with D model-space columns: one hidden layer of ``clip(next power of two >= 2 D, 64, 256)`` units
  and ``clip(ceil(D / 4), 4, 8)`` latent dimensions: a small model, so that it cannot also fit the
  anomalies among the unlabelled training rows, with at least 4 latent dimensions, which rank the narrow
  tables better than 2 (chosen in bench/anomaly/results.md, sixth study; unused dimensions cost nothing,
  the KL switches them off);
- images: a small conv encoder/decoder (``IMAGE_CHANNELS``) and ``IMAGE_LATENT`` latent dimensions;
- batches of ``clip(N // 16, 16, 128)`` rows and enough epochs for about ``TABLE_STEPS`` (tables) or
  ``IMAGE_STEPS`` (images) optimisation steps, between ``MIN_EPOCHS`` and ``MAX_EPOCHS``;
- the weight of the rate in the default score, ``TABLE_RATE_WEIGHT`` or ``IMAGE_RATE_WEIGHT``.
"""

from __future__ import annotations

import math

DEFAULT_SCORE = "rate-weighted"
TABLE_RATE_WEIGHT, IMAGE_RATE_WEIGHT = 16.0, 4.0
TABLE_STEPS, IMAGE_STEPS = 12_000, 3_000
"""The default score is ``E_q log p(x|z) - w KL(q(z|x) || p(z))``: weighting the rate more than the ELBO does
ranks anomalies better, and on the tables the best weight grows with the training length (longer training
shrinks the learned likelihood scales, which widens the spread of the reconstruction term).
- Tables: about 12,000 steps and w = 16 (chosen in bench/anomaly/results.md, seventh study).
- Images: 3,000 steps and w = 4, since one-class 8 x 8 digits rank worse with larger weights (chosen in
  bench/anomaly/results.md, fifth study)."""
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


def batch_size(num_rows: int) -> int:
    return _clip(num_rows // 16, MIN_BATCH, MAX_BATCH)


def epochs(num_rows: int, batch: int, images: bool) -> int:
    steps_per_epoch = math.ceil(num_rows / batch)
    target_steps = IMAGE_STEPS if images else TABLE_STEPS
    return _clip(math.ceil(target_steps / steps_per_epoch), MIN_EPOCHS, MAX_EPOCHS)


def rate_weight(images: bool) -> float:
    return IMAGE_RATE_WEIGHT if images else TABLE_RATE_WEIGHT
