"""The quality of a model's synthetic rows, measured against its training rows and real held-out rows
(:func:`vaelab.evaluation.synthetic.report.quality_report`), with the columns' kinds taken from the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from vaelab.data.schema import Feature
from vaelab.errors import UserError
from vaelab.evaluation.synthetic.report import quality_report

DISCRETE_KINDS = ("categorical", "binary")
"""Columns scored as categories (total-variation shapes, contingency trends); the others as numbers."""


def table_quality(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synthetic: pd.DataFrame,
    features: Sequence[Feature],
    target: str | None = None,
    positive: str | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Column shapes, pair trends, distance to closest record and, with a ``target`` column, the
    machine-learning efficacy for its ``positive`` class (default: its rarest class in ``train``)."""
    categorical = [f.name for f in features if f.kind in DISCRETE_KINDS]
    label: Any = None
    if target is not None:
        if target not in categorical:
            raise UserError(
                f"--target {target}: the efficacy needs a categorical or binary column of the table "
                f"({', '.join(categorical) or 'it has none'})"
            )
        present = train[target].dropna()
        classes = {str(value): value for value in present.unique()}
        if positive is None:
            label = present.value_counts().idxmin()
        elif positive in classes:
            label = classes[positive]
        else:
            raise UserError(f"--positive {positive}: column {target!r} never holds it ({', '.join(sorted(classes))})")
    return quality_report(train, test, synthetic, categorical, target, label, random_state)
