"""Column shapes: how well each column's distribution on its own is reproduced, as SDMetrics' single-table
``QualityReport`` scores its "Column Shapes" property (SDMetrics docs, "Column Shapes"; the metrics
``KSComplement`` and ``TVComplement``).

- A numeric column scores ``KSComplement = 1 - D``, D the two-sample Kolmogorov-Smirnov statistic (the largest gap
  between the two empirical CDFs; ``scipy.stats.ks_2samp``).
- A categorical column scores ``TVComplement = 1 - 1/2 sum_k |p_real(k) - p_synthetic(k)|``, over the union of the
  categories of both tables (the complement of the total variation distance).

Both are 1 for identical distributions and 0 for disjoint ones. Missing cells are dropped column by column, as
SDMetrics does for both metrics; a column with no value left in one of the tables scores NaN and is left out of
the mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from scipy.stats import ks_2samp

from vaelab.evaluation.synthetic.tables import column_kinds, mean_of_defined


@dataclass(frozen=True)
class ColumnShape:
    """One column's score (NaN when one table has no value in it) and the metric that gave it."""

    column: str
    metric: Literal["KSComplement", "TVComplement"]
    score: float


@dataclass(frozen=True)
class ColumnShapes:
    """Every column's shape score, in the tables' column order, and their mean over the defined scores."""

    columns: tuple[ColumnShape, ...]
    mean: float


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - the Kolmogorov-Smirnov statistic between the non-missing values of two numeric columns."""
    real_values, synthetic_values = real.dropna().to_numpy(float), synthetic.dropna().to_numpy(float)
    if len(real_values) == 0 or len(synthetic_values) == 0:
        return math.nan
    # The statistic is the same for every method; "asymp" only skips the exact p-value, slow for large tables.
    return 1.0 - float(ks_2samp(real_values, synthetic_values, method="asymp").statistic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - the total variation distance between the category frequencies of two columns (missing cells dropped)."""
    real_frequencies = real.dropna().value_counts(normalize=True)
    synthetic_frequencies = synthetic.dropna().value_counts(normalize=True)
    if len(real_frequencies) == 0 or len(synthetic_frequencies) == 0:
        return math.nan
    gaps = real_frequencies.sub(synthetic_frequencies, fill_value=0.0).abs()
    return 1.0 - 0.5 * float(gaps.sum())


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, categorical: Sequence[str]) -> ColumnShapes:
    """KSComplement of each numeric column and TVComplement of each categorical one, and their mean."""
    kinds = column_kinds({"real": real, "synthetic": synthetic}, categorical)
    scores = tuple(
        ColumnShape(column, "TVComplement", tv_complement(real[column], synthetic[column]))
        if column in kinds.categorical
        else ColumnShape(column, "KSComplement", ks_complement(real[column], synthetic[column]))
        for column in kinds.columns
    )
    return ColumnShapes(columns=scores, mean=mean_of_defined(s.score for s in scores))
