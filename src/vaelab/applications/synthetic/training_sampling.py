"""Training-by-sampling (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN", §4.3) for ``TabularVAE``.

A rare category of a discrete column is seen in training about as often as it occurs, so the model learns
little of the rows that carry it. Training-by-sampling draws each training row as follows: a discrete column
uniformly, one of its categories with probability proportional to the log of its frequency, then a row holding
that category uniformly; the row is conditioned on that one (column, category). At sampling time the condition
is drawn with the real frequencies (a column uniformly, a category as often as it occurs), so that
p(x) = sum over conditions of p(condition) p(x | condition) keeps the real distribution.
``TabularVAE(sampling="frequency")`` draws the categories as often as they occur instead (CTGAN's
``log_frequency=False``): the same conditioning without showing rare categories more often, to tell the two apart.

Conditions here are the ``(N, C)`` arrays of :class:`~vaelab.conditions.ColumnsCondition`: category indices of
the C conditionable columns, NaN where a column is not given. As in CTGAN, a drawn row trains with its
(column, category) given; ``TabularVAE(given_share=...)`` (default 0.9) is the share of rows that do, the condition
hiding it in the others (its ``draw`` with ``show_none = 1 - given_share``, ``show_column = 1``). Those train the
model's nothing-given mode (``transform`` reads it), which learns the drawn rows' distribution, over-representing
rare categories; sampling always gives one column and so does not use it, and ``score_samples`` and the held-out
bound score the sampled mixture instead (``sampler_log_likelihood``). The condition's default hiding (a quarter
of these rows given) would leave each category's conditional trained on few rows.
Unlike CTGAN, which draws afresh for every batch, a fit draws its rows (as many as the table has, or
``TabularVAE(draws=D)`` D times as many) once and trains its epochs on them, since the training loop takes a fixed
dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import logsumexp


def category_counts(y: np.ndarray, sizes: Sequence[int]) -> list[list[int]]:
    """Per conditionable column, how many rows hold each of its ``sizes[c]`` categories (missing cells: none)."""
    counts = []
    for c, size in enumerate(sizes):
        column = y[:, c]
        counts.append(np.bincount(column[~np.isnan(column)].astype(np.int64), minlength=size).tolist())
    return counts


def log_frequency(counts: Sequence[int]) -> np.ndarray:
    """A column's category probabilities for training-by-sampling, Xu et al. 2019 §4.3 (as CTGAN computes them):
    P(k) = log(1 + n_k) / sum_j log(1 + n_j), with n_k the rows holding category k; an absent category gets 0."""
    weights = np.log1p(np.asarray(counts, dtype=np.float64))
    return weights / weights.sum()


def real_frequency(counts: Sequence[int]) -> np.ndarray:
    """A column's category probabilities as the training rows hold them: P(k) = n_k / sum_j n_j."""
    weights = np.asarray(counts, dtype=np.float64)
    return weights / weights.sum()


Probabilities = Callable[[Sequence[int]], np.ndarray]  # a column's category counts -> their probabilities

# How a fit draws its training rows: "uniform" each row as often as it occurs, with the condition of
# ColumnsCondition (no training-by-sampling); otherwise training-by-sampling with the category probabilities
# named (CTGAN's ``log_frequency`` switch): "log-frequency" as the paper, "frequency" as the rows hold them.
CATEGORY_PROBABILITIES: dict[str, Probabilities] = {"frequency": real_frequency, "log-frequency": log_frequency}
SAMPLINGS = ("uniform", *CATEGORY_PROBABILITIES)


def one_column_conditions(columns: np.ndarray, categories: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` conditions that give, in row i, column ``columns[i]`` as category ``categories[i]`` only."""
    y = np.full((len(columns), width), np.nan, dtype=np.float32)
    y[np.arange(len(columns)), columns] = categories
    return y


def draw_columns(counts: Sequence[Sequence[int]], n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n,)`` conditionable columns, each drawn uniformly among those with an observed category."""
    usable = np.flatnonzero([sum(c) > 0 for c in counts])
    return rng.choice(usable, size=n)


def draw_categories(
    columns: np.ndarray,
    counts: Sequence[Sequence[int]],
    probabilities: Probabilities,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(n,)`` categories, row i's drawn in column ``columns[i]`` with ``probabilities(counts[column])``."""
    categories = np.empty(len(columns), dtype=np.int64)
    for c in np.unique(columns):
        rows = np.flatnonzero(columns == c)
        p = probabilities(counts[c])
        categories[rows] = rng.choice(len(p), size=len(rows), p=p)
    return categories


def training_rows(
    y: np.ndarray,
    counts: Sequence[Sequence[int]],
    n: int,
    rng: np.random.Generator,
    probabilities: Probabilities = log_frequency,
) -> tuple[np.ndarray, np.ndarray]:
    """Training-by-sampling of ``n`` rows from rows whose conditionable columns are ``y: (N, C)``: the drawn
    row indices ``(n,)`` and their conditions ``(n, C)``, each giving only the drawn (column, category)."""
    columns = draw_columns(counts, n, rng)
    categories = draw_categories(columns, counts, probabilities, rng)
    rows = np.empty(n, dtype=np.int64)
    for c, k in {(int(c), int(k)) for c, k in zip(columns, categories, strict=True)}:  # ints: a fixed order
        slots = np.flatnonzero((columns == c) & (categories == k))
        rows[slots] = rng.choice(np.flatnonzero(y[:, c] == k), size=len(slots))
    return rows, one_column_conditions(columns, categories, y.shape[1])


def sampling_conditions(counts: Sequence[Sequence[int]], n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, C)`` conditions for unconditional sampling after training-by-sampling: a column uniformly and its
    category with the real frequencies (Xu et al. 2019 §4.3), so the samples keep the table's distribution."""
    columns = draw_columns(counts, n, rng)
    return one_column_conditions(columns, draw_categories(columns, counts, real_frequency, rng), len(counts))


def sampler_log_likelihood(
    categories: np.ndarray,
    counts: Sequence[Sequence[int]],
    log_p_given: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """``(N,)`` a lower bound on log p_s(x) of rows under the distribution that unconditional sampling draws from
    after training-by-sampling, p_s(x) = (1/J) sum_j sum_k P_j(k) p(x | column j is k), with J the columns
    that have an observed category and P_j the real frequencies (``sampling_conditions``). Keeping, for each
    column, only the term of the row's own category k = x_j gives

        log p_s(x) >= logsumexp_j [log P_j(x_j) + log p(x | column j is x_j)] - log J,

    the terms of columns whose cell the row misses left out (-inf where it misses all). ``categories: (N, C)``
    are the rows' category indices of the C conditionable columns (NaN: missing); ``log_p_given(rows, y)`` gives
    log p(x | y) (or a bound on it) of the rows selected by the boolean mask ``rows`` under conditions ``y``."""
    terms = []
    for c, column_counts in enumerate(counts):
        if not sum(column_counts):
            continue
        observed = ~np.isnan(categories[:, c])
        term = np.full(len(categories), -np.inf)
        if observed.any():
            given = categories[observed, c].astype(np.int64)
            y = one_column_conditions(np.full(len(given), c), given, len(counts))
            with np.errstate(divide="ignore"):  # a category no training row holds: probability 0
                log_frequency = np.log(real_frequency(column_counts))
            term[observed] = log_p_given(observed, y) + log_frequency[given]
        terms.append(term)
    with np.errstate(divide="ignore"):  # a row missing every conditionable cell: -inf
        return logsumexp(np.stack(terms), axis=0) - np.log(len(terms))
