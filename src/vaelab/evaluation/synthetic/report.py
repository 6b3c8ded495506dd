"""One quality report of a synthetic table: fidelity (column shapes and column-pair trends against the training
table, as SDMetrics' ``QualityReport``), utility (SDGym's machine-learning efficacy, when a target is given) and
privacy (distance to closest record).

Keys of :func:`quality_report`'s dict; every value is a plain float, or None where a score is undefined (e.g. a
correlation with a constant column):

- ``column_shapes``, ``column_pair_trends``: the two SDMetrics property scores of ``synthetic`` against ``train``
  (:mod:`.shapes`, :mod:`.trends`; the trends over every column pair, as SDMetrics up to 0.26 and the papers), and
  ``quality_score``, their mean (the ``QualityReport``'s overall score); ``column_pair_trends_related``: the trends
  over the pairs related in ``train`` only, as SDMetrics' ``QualityReport`` averages them since 0.27;
- ``ml_efficacy_f1``: mean F1 on ``test`` of the classifiers fitted on ``synthetic``, and ``ml_efficacy_f1_real``:
  the same fitted on ``train``, the reference (:mod:`.efficacy`); only with ``target``;
- ``dcr_synthetic_p5``, ``dcr_synthetic_median``: 5th percentile and median of the synthetic rows' distance to
  the closest training row; ``dcr_holdout_p5``, ``dcr_holdout_median``: the same for the real ``test`` rows;
  ``exact_copies``, ``exact_copies_holdout``: the share of synthetic, and of held-out, rows that equal a training
  row (:mod:`.privacy`);
- ``details``: ``column_shapes``, a list of ``{"column", "metric", "score"}``; ``column_pair_trends``, a list of
  ``{"columns": [first, second], "metric", "score", "real_strength"}`` (``|rho|`` or Cramér's V in ``train``);
  with ``target``, ``ml_efficacy``: ``{"synthetic": {classifier: F1, ..., "mean": F1}, "real": {...}}``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from vaelab.evaluation.synthetic.efficacy import ml_efficacy
from vaelab.evaluation.synthetic.privacy import distance_to_closest_record
from vaelab.evaluation.synthetic.shapes import column_shapes
from vaelab.evaluation.synthetic.tables import column_kinds, mean_of_defined
from vaelab.evaluation.synthetic.trends import (
    REAL_ASSOCIATION_THRESHOLD,
    REAL_CORRELATION_THRESHOLD,
    column_pair_trends,
    trend_mean,
)


def _plain(score: float) -> float | None:
    """A score as a JSON value: a float, or None for NaN."""
    return None if math.isnan(score) else float(score)


def quality_report(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synthetic: pd.DataFrame,
    categorical: Sequence[str],
    target: str | None = None,
    positive: Hashable | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fidelity, utility and privacy figures of ``synthetic``, a table sampled from a model fitted on ``train``,
    with ``test`` real rows the model never saw; ``target`` and its ``positive`` class for the efficacy."""
    column_kinds({"train": train, "test": test, "synthetic": synthetic}, categorical)
    if (target is None) != (positive is None):
        raise ValueError("give both target and positive for the machine-learning efficacy, or neither")
    shapes = column_shapes(train, synthetic, categorical)
    trends = column_pair_trends(train, synthetic, categorical)
    dcr = distance_to_closest_record(train, test, synthetic, categorical)
    report: dict[str, Any] = {
        "column_shapes": _plain(shapes.mean),
        "column_pair_trends": _plain(trends.mean),
        "quality_score": _plain(mean_of_defined([shapes.mean, trends.mean])),
        "column_pair_trends_related": _plain(
            trend_mean(trends.pairs, REAL_CORRELATION_THRESHOLD, REAL_ASSOCIATION_THRESHOLD)
        ),
    }
    details: dict[str, Any] = {
        "column_shapes": [{"column": s.column, "metric": s.metric, "score": _plain(s.score)} for s in shapes.columns],
        "column_pair_trends": [
            {
                "columns": list(p.columns),
                "metric": p.metric,
                "score": _plain(p.score),
                "real_strength": _plain(p.real_strength),
            }
            for p in trends.pairs
        ],
    }
    if target is not None:
        efficacy = {
            "synthetic": ml_efficacy(synthetic, test, target, positive, categorical, random_state),
            "real": ml_efficacy(train, test, target, positive, categorical, random_state),
        }
        report["ml_efficacy_f1"] = efficacy["synthetic"]["mean"]
        report["ml_efficacy_f1_real"] = efficacy["real"]["mean"]
        details["ml_efficacy"] = efficacy
    report.update(
        dcr_synthetic_p5=dcr.synthetic_p5,
        dcr_synthetic_median=dcr.synthetic_median,
        dcr_holdout_p5=dcr.holdout_p5,
        dcr_holdout_median=dcr.holdout_median,
        exact_copies=dcr.synthetic_exact_copies,
        exact_copies_holdout=dcr.holdout_exact_copies,
        details=details,
    )
    return report
