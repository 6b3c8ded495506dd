"""Distance to closest record (DCR): how close synthetic rows come to the rows the model was trained on, next to how
close real held-out rows come to them (a model that copies its training rows puts its synthetic rows nearer than
the held-out ones; Park et al. 2018, "Data Synthesis based on Generative Adversarial Networks" (table-GAN);
the distance is that of SDMetrics' ``DCRBaselineProtection``, code ``sdmetrics/single_table/privacy/dcr_utils.py``).

The distance between two rows is the mean over the columns of a per-column distance in [0, 1]:

- numeric: ``|a - b|`` after scaling the column to [0, 1] by the training table's min and max; values outside the
  training range are clipped to it first (SDMetrics clips the difference at 1 instead, so the two differ only for a
  value outside the training range); a column constant in the training table: 0 for equal values, else 1;
- categorical: 0 for equal categories, 1 for different ones;
- missing: a missing cell against a present one is 1, two missing cells are 0, in either kind of column (a missing
  categorical cell is a category of its own; a numeric column with a missing cell is embedded as
  ``(s/2, (1-s)/2, 0)`` for a present scaled value s and ``(0, 0, 1/2)`` for a missing one, whose L1 distances are
  exactly these).

Each row's DCR is its distance to the nearest training row, found by brute force in blocks of at most
:data:`BLOCK_CELLS` row pairs (16 MiB of float32 at a time): mismatched categories by one matrix product of the
one-hot codes, numeric gaps column by column. An exact copy is a synthetic row equal to a training row in every
cell (numeric cells as floats, missing equal to missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from vaelab.evaluation.synthetic.tables import ColumnKinds, category_codes, column_kinds

BLOCK_CELLS = 2**22


@dataclass(frozen=True)
class DistanceToClosestRecord:
    """The 5th percentile and median of the synthetic and of the held-out rows' DCR to the training rows, and the
    share of each that copies a training row exactly."""

    synthetic_p5: float
    synthetic_median: float
    holdout_p5: float
    holdout_median: float
    synthetic_exact_copies: float
    holdout_exact_copies: float


@dataclass(frozen=True)
class _Embedded:
    """Rows as numeric coordinates (one per column, three for a column with a missing cell; stored coordinate-major,
    (k, N)) and the one-hot codes of their categorical columns (N, total categories)."""

    numeric: np.ndarray
    one_hot: np.ndarray


def _numeric_coordinates(rows: pd.Series, train: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One numeric column of ``rows`` and ``train`` as (k, N) coordinates whose L1 distance is the column's."""
    low, high = train.min(), train.max()
    scaled = []
    for column in (rows, train):
        values = column.to_numpy(float, na_value=np.nan)
        if high > low:
            scaled.append(np.clip((values - low) / (high - low), 0.0, 1.0))
        else:
            scaled.append(np.where(np.isnan(values), np.nan, (values != low).astype(float)))
    if not any(np.isnan(s).any() for s in scaled):
        return scaled[0][None, :], scaled[1][None, :]
    embedded = []
    for s in scaled:
        missing = np.isnan(s)
        present = np.where(missing, 0.0, s)
        embedded.append(
            np.stack([np.where(missing, 0.0, present / 2), np.where(missing, 0.0, (1 - present) / 2), missing / 2])
        )
    return embedded[0], embedded[1]


def _one_hot(rows: pd.Series, train: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One categorical column of ``rows`` and ``train`` as one-hot codes, a missing cell a category of its own."""
    (row_codes, train_codes), num_values = category_codes(rows, train)
    categories = np.arange(num_values + 1)  # the last one: missing

    def encoded(codes: np.ndarray) -> np.ndarray:
        return (np.where(codes < 0, num_values, codes)[:, None] == categories[None, :]).astype(np.float32)

    return encoded(row_codes), encoded(train_codes)


def _embed(rows: pd.DataFrame, train: pd.DataFrame, kinds: ColumnKinds) -> tuple[_Embedded, _Embedded]:
    row_numeric, train_numeric = [np.zeros((0, len(rows)))], [np.zeros((0, len(train)))]
    for column in kinds.numeric:
        row_part, train_part = _numeric_coordinates(rows[column], train[column])
        row_numeric.append(row_part)
        train_numeric.append(train_part)
    row_hot, train_hot = [np.zeros((len(rows), 0))], [np.zeros((len(train), 0))]
    for column in kinds.categorical:
        row_part, train_part = _one_hot(rows[column], train[column])
        row_hot.append(row_part)
        train_hot.append(train_part)
    return (
        _Embedded(np.vstack(row_numeric).astype(np.float32), np.hstack(row_hot).astype(np.float32)),
        _Embedded(
            np.ascontiguousarray(np.vstack(train_numeric), dtype=np.float32), np.hstack(train_hot).astype(np.float32)
        ),
    )


def _nearest_distances(query: _Embedded, reference: _Embedded, num_categorical: int) -> np.ndarray:
    """Each query row's summed column distance to its nearest reference row, block by block."""
    num_rows, num_reference = query.one_hot.shape[0], reference.one_hot.shape[0]
    block = max(1, BLOCK_CELLS // num_reference)
    gaps = np.empty((min(block, num_rows), num_reference), dtype=np.float32)
    nearest = np.empty(num_rows, dtype=np.float32)
    for start in range(0, num_rows, block):
        stop = min(start + block, num_rows)
        distances = np.float32(num_categorical) - query.one_hot[start:stop] @ reference.one_hot.T
        block_gaps = gaps[: stop - start]
        for row_coordinate, reference_coordinate in zip(query.numeric[:, start:stop], reference.numeric, strict=True):
            np.subtract(row_coordinate[:, None], reference_coordinate[None, :], out=block_gaps)
            np.abs(block_gaps, out=block_gaps)
            distances += block_gaps
        nearest[start:stop] = distances.min(axis=1)
    return nearest


def closest_record_distances(rows: pd.DataFrame, train: pd.DataFrame, categorical: Sequence[str]) -> np.ndarray:
    """Each row's distance (N,) in [0, 1] to its nearest row of ``train``."""
    kinds = column_kinds({"train": train, "rows": rows}, categorical)
    query, reference = _embed(rows, train, kinds)
    # One BLAS thread: on a busy 2-core machine a second one slowed the block products by half.
    with threadpool_limits(limits=1, user_api="blas"):
        nearest = _nearest_distances(query, reference, len(kinds.categorical))
    return nearest.astype(float) / len(kinds.columns)


def exact_copy_share(rows: pd.DataFrame, train: pd.DataFrame, categorical: Sequence[str]) -> float:
    """The share of ``rows`` equal in every cell to some row of ``train``."""
    kinds = column_kinds({"train": train, "rows": rows}, categorical)
    row_keys, train_keys = {}, {}
    for position, column in enumerate(kinds.columns):
        if column in kinds.categorical:
            (row_keys[position], train_keys[position]), _ = category_codes(rows[column], train[column])
        else:
            row_keys[position], train_keys[position] = (
                rows[column].to_numpy(float, na_value=np.nan),
                train[column].to_numpy(float, na_value=np.nan),
            )
    matched = pd.DataFrame(row_keys).merge(pd.DataFrame(train_keys).drop_duplicates(), how="left", indicator=True)
    return float((matched["_merge"] == "both").mean())


def distance_to_closest_record(
    train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, categorical: Sequence[str]
) -> DistanceToClosestRecord:
    """DCR of the ``synthetic`` rows and of the real held-out ``test`` rows to the ``train`` rows: 5th percentile,
    median, and the share of exact copies of a training row."""
    column_kinds({"train": train, "test": test, "synthetic": synthetic}, categorical)
    synthetic_dcr = closest_record_distances(synthetic, train, categorical)
    holdout_dcr = closest_record_distances(test, train, categorical)
    return DistanceToClosestRecord(
        synthetic_p5=float(np.percentile(synthetic_dcr, 5)),
        synthetic_median=float(np.median(synthetic_dcr)),
        holdout_p5=float(np.percentile(holdout_dcr, 5)),
        holdout_median=float(np.median(holdout_dcr)),
        synthetic_exact_copies=exact_copy_share(synthetic, train, categorical),
        holdout_exact_copies=exact_copy_share(test, train, categorical),
    )
