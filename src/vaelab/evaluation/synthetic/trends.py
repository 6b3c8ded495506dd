"""Column-pair trends: how well the relation between each pair of columns is reproduced, as SDMetrics' single-table
``QualityReport`` scores its "Column Pair Trends" property (SDMetrics docs, "Column Pair Trends"; the metrics
``CorrelationSimilarity`` and ``ContingencySimilarity``; code: ``sdmetrics/reports/single_table/_properties/
column_pair_trends.py``).

Every pair of columns is scored:

- two numeric columns: ``CorrelationSimilarity = 1 - |rho_real - rho_synthetic| / 2``, rho Pearson's correlation;
  NaN (left out of the mean) when a column is constant in either table, where rho is undefined.
- a pair with a categorical column: ``ContingencySimilarity = 1 - 1/2 sum_(a,b) |P_real(a, b) - P_synthetic(a, b)|``
  over the joint frequencies of the two columns, a numeric column first cut into bins.

Bins, as the ``QualityReport`` makes them: 10 equal-width bins between the column's smallest and largest value
(``numpy.histogram_bin_edges``), numbered by ``numpy.digitize``, so the largest value gets an eleventh bin of its
own. Each table is cut on its own range (the report discretises the real and the synthetic table separately), so
bin k of a synthetic column whose range is wider than the real one covers other values than bin k of the real
column. (SDMetrics' stand-alone ``ContingencySimilarity(continuous_column_names=...)`` instead cuts both on the real
range; the report does not use that.)

Which pairs count: the mean is over every pair with a score, as in SDMetrics up to 0.26 and in the papers that
report this property. Since 0.27 (January 2026) the ``QualityReport`` averages only the pairs related in the real
table: ``|rho_real| > 0.5`` (:data:`REAL_CORRELATION_THRESHOLD`) for two numeric columns and Cramér's V of the real
contingency table ``> 0.3`` (:data:`REAL_ASSOCIATION_THRESHOLD`) for the others; :func:`trend_mean` with those
thresholds gives that figure. Each pair keeps the strength of its real relation (``real_strength``) for this.

Missing cells: a row missing either column of a pair is dropped for that pair, and the bin edges come from the
column's non-missing values. SDMetrics agrees for correlations but, for contingency pairs, counts a missing
categorical cell as a category of its own and puts a missing numeric cell in the largest value's bin; tables
without missing cells score the same. Unlike the report, which scores contingency pairs on random samples of
50,000 rows of larger tables, every row is used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats.contingency import association

from vaelab.evaluation.synthetic.tables import category_codes, column_kinds, mean_of_defined

NUM_BINS = 10
REAL_CORRELATION_THRESHOLD = 0.5  # SDMetrics >= 0.27: a numeric pair counts when |rho_real| is above this
REAL_ASSOCIATION_THRESHOLD = 0.3  # and another pair when the real Cramér's V is above this


@dataclass(frozen=True)
class PairTrend:
    """One column pair's score (NaN where undefined), the metric that gave it, and how strongly the two columns are
    related in the real table: ``|rho|`` for CorrelationSimilarity, Cramér's V for ContingencySimilarity."""

    columns: tuple[str, str]
    metric: Literal["CorrelationSimilarity", "ContingencySimilarity"]
    score: float
    real_strength: float


@dataclass(frozen=True)
class PairTrends:
    """Every column pair's score, pairs in the tables' column order, and their mean over the defined scores."""

    pairs: tuple[PairTrend, ...]
    mean: float


@dataclass(frozen=True)
class _DiscreteColumn:
    """A column of both tables as integer levels in ``range(num_levels)``, -1 for a missing cell."""

    real: np.ndarray
    synthetic: np.ndarray
    num_levels: int


def equal_width_bins(values: np.ndarray) -> np.ndarray:
    """The bin of each value among ``NUM_BINS`` equal-width bins over the non-missing values' range (1 to
    ``NUM_BINS``, ``NUM_BINS + 1`` for the largest value), -1 for a missing value."""
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    edges = np.histogram_bin_edges(values[present], bins=NUM_BINS)
    return np.where(present, np.digitize(values, edges), -1)


def _correlation_similarity(real: np.ndarray, synthetic: np.ndarray) -> tuple[float, float]:
    """CorrelationSimilarity of two (N, 2) arrays, rows with a missing cell dropped, and ``|rho_real|``."""
    correlations = []
    for pair in (real, synthetic):
        complete = pair[~np.isnan(pair).any(axis=1)]
        undefined = len(complete) < 2 or (complete.std(axis=0) == 0).any()
        correlations.append(math.nan if undefined else float(np.corrcoef(complete[:, 0], complete[:, 1])[0, 1]))
    return 1.0 - abs(correlations[0] - correlations[1]) / 2.0, abs(correlations[0])


def _cramers_v(counts: np.ndarray) -> float:
    """Cramér's V of a contingency table of counts, its empty rows and columns left out; NaN below 2 x 2."""
    counts = counts[counts.any(axis=1)][:, counts.any(axis=0)]
    if min(counts.shape) < 2:
        return math.nan
    return float(association(counts, method="cramer"))


def _contingency_similarity(first: _DiscreteColumn, second: _DiscreteColumn) -> tuple[float, float]:
    """ContingencySimilarity of two discrete columns, rows with a missing cell dropped, and the real Cramér's V."""
    counts = []
    for a, b in ((first.real, second.real), (first.synthetic, second.synthetic)):
        complete = (a >= 0) & (b >= 0)
        cells = a[complete] * second.num_levels + b[complete]
        counts.append(np.bincount(cells, minlength=first.num_levels * second.num_levels))
    real_counts, synthetic_counts = counts
    strength = _cramers_v(real_counts.reshape(first.num_levels, second.num_levels))
    if real_counts.sum() == 0 or synthetic_counts.sum() == 0:
        return math.nan, strength
    gaps = np.abs(real_counts / real_counts.sum() - synthetic_counts / synthetic_counts.sum())
    return 1.0 - 0.5 * float(gaps.sum()), strength


def _categories(real: pd.Series, synthetic: pd.Series) -> _DiscreteColumn:
    (real_codes, synthetic_codes), num_levels = category_codes(real, synthetic)
    return _DiscreteColumn(real_codes, synthetic_codes, num_levels)


def _bins(real: pd.Series, synthetic: pd.Series) -> _DiscreteColumn:
    return _DiscreteColumn(
        equal_width_bins(real.to_numpy(float, na_value=np.nan)),
        equal_width_bins(synthetic.to_numpy(float, na_value=np.nan)),
        NUM_BINS + 2,
    )


def _two_columns(real: pd.DataFrame, synthetic: pd.DataFrame, categorical: bool) -> list[str]:
    """The names of the two columns of ``real`` and ``synthetic``, checked (categorical, or else numeric)."""
    kinds = column_kinds({"real": real, "synthetic": synthetic}, list(real.columns) if categorical else [])
    if len(kinds.columns) != 2:
        raise ValueError(f"a column pair needs tables of 2 columns, got {len(kinds.columns)}")
    return list(kinds.columns)


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """CorrelationSimilarity of the two numeric columns of ``real`` and ``synthetic`` (rows missing a cell dropped)."""
    columns = _two_columns(real, synthetic, categorical=False)
    return _correlation_similarity(
        real[columns].to_numpy(float, na_value=np.nan), synthetic[columns].to_numpy(float, na_value=np.nan)
    )[0]


def contingency_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """ContingencySimilarity of the two categorical columns of ``real`` and ``synthetic`` (rows missing a cell
    dropped); bin a numeric column first, e.g. with :func:`equal_width_bins`."""
    first, second = _two_columns(real, synthetic, categorical=True)
    return _contingency_similarity(
        _categories(real[first], synthetic[first]), _categories(real[second], synthetic[second])
    )[0]


def trend_mean(
    pairs: Iterable[PairTrend], real_correlation_threshold: float = 0.0, real_association_threshold: float = 0.0
) -> float:
    """The mean score of the pairs whose real relation is stronger than the threshold of their metric (a threshold
    of 0 counts every pair, whatever its strength); NaN scores are left out."""
    thresholds = {
        "CorrelationSimilarity": real_correlation_threshold,
        "ContingencySimilarity": real_association_threshold,
    }
    return mean_of_defined(
        p.score for p in pairs if thresholds[p.metric] <= 0 or p.real_strength > thresholds[p.metric]
    )


def column_pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, categorical: Sequence[str]) -> PairTrends:
    """CorrelationSimilarity of each numeric pair, ContingencySimilarity of each pair with a categorical column,
    and the mean over every pair."""
    kinds = column_kinds({"real": real, "synthetic": synthetic}, categorical)
    discrete = {
        column: _categories(real[column], synthetic[column])
        if column in kinds.categorical
        else _bins(real[column], synthetic[column])
        for column in kinds.columns
    }
    pairs = []
    for first, second in itertools.combinations(kinds.columns, 2):
        if first in kinds.numeric and second in kinds.numeric:
            columns = [first, second]
            score, strength = _correlation_similarity(
                real[columns].to_numpy(float, na_value=np.nan), synthetic[columns].to_numpy(float, na_value=np.nan)
            )
            pairs.append(PairTrend((first, second), "CorrelationSimilarity", score, strength))
        else:
            score, strength = _contingency_similarity(discrete[first], discrete[second])
            pairs.append(PairTrend((first, second), "ContingencySimilarity", score, strength))
    return PairTrends(pairs=tuple(pairs), mean=trend_mean(pairs))
