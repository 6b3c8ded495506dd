"""Synthetic-table quality metrics: hand-computed cases of each metric, what a good and a bad synthetic table score,
and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from vaelab.evaluation.synthetic import privacy
from vaelab.evaluation.synthetic.efficacy import CLASSIFIER_NAMES, ml_efficacy
from vaelab.evaluation.synthetic.privacy import (
    closest_record_distances,
    distance_to_closest_record,
    exact_copy_share,
)
from vaelab.evaluation.synthetic.report import quality_report
from vaelab.evaluation.synthetic.shapes import column_shapes, ks_complement, tv_complement
from vaelab.evaluation.synthetic.trends import (
    REAL_ASSOCIATION_THRESHOLD,
    REAL_CORRELATION_THRESHOLD,
    column_pair_trends,
    contingency_similarity,
    correlation_similarity,
    equal_width_bins,
    trend_mean,
)

CATEGORICAL = ["colour", "size"]


def related_table(rows: int, seed: int) -> pd.DataFrame:
    """Two correlated numeric columns and two categorical columns that follow them, with a few missing cells."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    table = pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(scale=0.3, size=rows),
            "colour": np.where(x > 0, "red", "blue").astype(object),
            "size": np.where(x > 1, "large", np.where(x > -1, "medium", "small")).astype(object),
        }
    )
    table.loc[rng.choice(rows, 5, replace=False), "y"] = np.nan
    table.loc[rng.choice(rows, 5, replace=False), "colour"] = None
    return table


# ---------------------------------------------------------------- column shapes and pair trends


def test_a_table_against_itself_scores_one_on_shapes_and_trends() -> None:
    table = related_table(300, seed=0)
    shapes = column_shapes(table, table.copy(), CATEGORICAL)
    trends = column_pair_trends(table, table.copy(), CATEGORICAL)
    assert [(s.column, s.metric) for s in shapes.columns] == [
        ("x", "KSComplement"),
        ("y", "KSComplement"),
        ("colour", "TVComplement"),
        ("size", "TVComplement"),
    ]
    assert shapes.mean == pytest.approx(1.0) and all(s.score == pytest.approx(1.0) for s in shapes.columns)
    assert len(trends.pairs) == 6
    assert trends.pairs[0].columns == ("x", "y") and trends.pairs[0].metric == "CorrelationSimilarity"
    assert {p.metric for p in trends.pairs[1:]} == {"ContingencySimilarity"}
    assert trends.mean == pytest.approx(1.0)


def test_ks_complement_is_one_minus_the_largest_cdf_gap() -> None:
    # CDFs of {1,2,3,4} and {3,4,5,6} differ most at 2: 0.5 against 0; missing cells are dropped.
    real = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan])
    assert ks_complement(real, pd.Series([3.0, 4.0, 5.0, 6.0])) == pytest.approx(0.5)
    assert ks_complement(real, pd.Series([10.0, 11.0])) == pytest.approx(0.0)
    assert math.isnan(ks_complement(real, pd.Series([np.nan])))


def test_tv_complement_sums_frequency_gaps_over_the_union_of_categories() -> None:
    # real a .5 b .5; synthetic a .25 b .5 c .25: TV = (.25 + 0 + .25) / 2.
    real = pd.Series(["a", "a", "b", "b", None])
    assert tv_complement(real, pd.Series(["a", "b", "b", "c"])) == pytest.approx(0.75)


def test_correlation_similarity_is_one_minus_half_the_correlation_gap() -> None:
    real = pd.DataFrame({"u": [1.0, 2.0, 3.0, 4.0], "v": [1.0, 2.0, 3.0, 4.0]})  # rho = 1
    uncorrelated = pd.DataFrame({"u": [1.0, 2.0, 3.0, 4.0], "v": [1.0, -1.0, -1.0, 1.0]})  # rho = 0
    reversed_ = pd.DataFrame({"u": [1.0, 2.0, 3.0, 4.0], "v": [4.0, 3.0, 2.0, 1.0]})  # rho = -1
    assert correlation_similarity(real, uncorrelated) == pytest.approx(0.5)
    assert correlation_similarity(real, reversed_) == pytest.approx(0.0)
    constant = pd.DataFrame({"u": [1.0, 2.0, 3.0, 4.0], "v": [5.0, 5.0, 5.0, 5.0]})
    assert math.isnan(correlation_similarity(real, constant))  # undefined, as in SDMetrics


def test_contingency_similarity_sums_joint_frequency_gaps() -> None:
    # real (a,x) .5 (b,y) .5; synthetic each of the four cells .25: the gaps sum to 1.
    real = pd.DataFrame({"p": ["a", "a", "b", "b"], "q": ["x", "x", "y", "y"]})
    synthetic = pd.DataFrame({"p": ["a", "a", "b", "b"], "q": ["x", "y", "x", "y"]})
    assert contingency_similarity(real, synthetic) == pytest.approx(0.5)
    assert contingency_similarity(real, real) == pytest.approx(1.0)


def test_numeric_columns_are_cut_into_ten_equal_bins_of_each_tables_own_range() -> None:
    # Edges 0, 1, ..., 10: the largest value gets an eleventh bin, a missing value -1 (as numpy.digitize numbers them).
    assert equal_width_bins(np.array([0.0, 0.5, 5.0, 9.99, 10.0, np.nan])).tolist() == [1, 1, 6, 10, 11, -1]
    # SDMetrics' QualityReport bins the synthetic table on its own range: a stretched copy scores 1 on the pairs
    # with a categorical column, though its values differ.
    real = pd.DataFrame({"value": np.arange(20.0), "colour": ["red", "blue"] * 10})
    stretched = real.assign(value=real["value"] * 3 + 100)
    assert column_pair_trends(real, stretched, ["colour"]).mean == pytest.approx(1.0)


def test_trend_mean_with_thresholds_counts_only_the_pairs_related_in_the_real_table() -> None:
    # p and q determine each other (Cramér's V 1); r is independent of both (V 0).
    real = pd.DataFrame({"p": ["a", "a", "b", "b"] * 5, "q": ["x", "x", "y", "y"] * 5, "r": ["u", "v"] * 10})
    synthetic = real.assign(q=["x", "y"] * 10)
    pairs = column_pair_trends(real, synthetic, ["p", "q", "r"]).pairs
    assert [(p.columns, p.real_strength) for p in pairs] == [
        (("p", "q"), pytest.approx(1.0)),
        (("p", "r"), pytest.approx(0.0)),
        (("q", "r"), pytest.approx(0.0)),
    ]
    assert trend_mean(pairs, REAL_CORRELATION_THRESHOLD, REAL_ASSOCIATION_THRESHOLD) == pytest.approx(pairs[0].score)
    assert trend_mean(pairs) == pytest.approx(np.mean([p.score for p in pairs]))


def test_independently_shuffled_columns_keep_the_shapes_and_lose_the_trends() -> None:
    real = related_table(1000, seed=1)
    rng = np.random.default_rng(2)
    shuffled = pd.DataFrame({c: rng.permutation(real[c].to_numpy()) for c in real.columns})
    assert column_shapes(real, shuffled, CATEGORICAL).mean == pytest.approx(1.0)
    trends = column_pair_trends(real, shuffled, CATEGORICAL)
    assert trends.mean < 0.75
    assert trends.pairs[0].score == pytest.approx(0.5, abs=0.05)  # rho about 0.99 against about 0


# ---------------------------------------------------------------- machine-learning efficacy


def labelled_table(rows: int, seed: int) -> pd.DataFrame:
    """A binary target (about 30% positive) that two numeric columns and a categorical one decide, with little
    noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    group = rng.choice(["g1", "g2", "g3"], size=rows)
    score = a + b + np.where(group == "g3", 1.5, 0.0) + rng.normal(scale=0.2, size=rows)
    return pd.DataFrame({"a": a, "b": b * 1000 + 5000, "group": group, "label": np.where(score > 1.2, "yes", "no")})


def test_efficacy_is_high_when_learning_from_real_rows_and_near_chance_from_shuffled_labels() -> None:
    train, test = labelled_table(800, seed=3), labelled_table(400, seed=4)
    real = ml_efficacy(train, test, "label", "yes", ["group", "label"], random_state=0)
    assert list(real) == [*CLASSIFIER_NAMES, "mean"]
    assert real["mean"] == pytest.approx(np.mean([real[n] for n in CLASSIFIER_NAMES]))
    # The MLP's 50 epochs (SDGym's cap) are few for 800 rows: it lags behind the other three.
    assert real["mean"] > 0.8 and min(real["decision_tree"], real["adaboost"], real["logistic_regression"]) > 0.85
    shuffled = train.assign(label=np.random.default_rng(5).permutation(train["label"].to_numpy()))
    noise = ml_efficacy(shuffled, test, "label", "yes", ["group", "label"], random_state=0)
    # Chance: a coin weighted like the labels (33% positive) scores 0.33, always saying "yes" 0.5.
    assert noise["mean"] < 0.4


def test_a_training_table_with_one_class_predicts_that_class_everywhere() -> None:
    train, test = labelled_table(200, seed=6), labelled_table(200, seed=7)
    negatives = ml_efficacy(train[train["label"] == "no"], test, "label", "yes", ["group", "label"])
    assert all(f1 == 0.0 for f1 in negatives.values())
    positives = ml_efficacy(train[train["label"] == "yes"], test, "label", "yes", ["group", "label"])
    share = (test["label"] == "yes").mean()  # always "yes": precision = share, recall = 1
    assert positives["mean"] == pytest.approx(2 * share / (1 + share))


# ---------------------------------------------------------------- distance to closest record


def test_dcr_is_the_mean_per_column_distance_to_the_nearest_training_row() -> None:
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    rows = pd.DataFrame({"x": [5.0, np.nan, 20.0, 0.0], "c": ["a", "a", "b", "a"]})
    # (5, a): |0.5 - 0| + 0 over 2 columns; (nan, a): missing against present is 1; (20, b): 20 is clipped to
    # the training range, so it sits on (10, b); (0, a): an exact copy.
    assert closest_record_distances(rows, train, ["c"]).tolist() == pytest.approx([0.25, 0.5, 0.0, 0.0])
    assert exact_copy_share(rows, train, ["c"]) == pytest.approx(0.25)


def test_dcr_in_blocks_matches_a_direct_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    train, rows = related_table(60, seed=8), related_table(25, seed=9)
    rows.loc[3, "x"] = 50.0  # outside the training range
    monkeypatch.setattr(privacy, "BLOCK_CELLS", 7 * len(train))  # several blocks, the last one short
    low, high = train[["x", "y"]].min(), train[["x", "y"]].max()

    def cell_distance(column: str, a: object, b: object) -> float:
        if pd.isna(a) or pd.isna(b):
            return float(pd.isna(a) != pd.isna(b))
        if column in CATEGORICAL:
            return float(a != b)
        scale = lambda v: min(max((v - low[column]) / (high[column] - low[column]), 0.0), 1.0)  # noqa: E731
        return abs(scale(a) - scale(b))

    expected = [
        min(np.mean([cell_distance(c, row[c], other[c]) for c in train.columns]) for _, other in train.iterrows())
        for _, row in rows.iterrows()
    ]
    assert closest_record_distances(rows, train, CATEGORICAL) == pytest.approx(expected, abs=1e-6)


def test_synthetic_rows_copied_from_training_rows_are_at_distance_zero() -> None:
    train, test = related_table(200, seed=10), related_table(100, seed=11)
    copies = train.sample(80, random_state=0).reset_index(drop=True)
    dcr = distance_to_closest_record(train, test, copies, CATEGORICAL)
    assert dcr.synthetic_p5 == 0.0 and dcr.synthetic_median == 0.0 and dcr.synthetic_exact_copies == 1.0
    assert dcr.holdout_median > 0.0 and dcr.holdout_exact_copies == 0.0


# ---------------------------------------------------------------- report and bad input


def test_report_is_plain_json_with_every_figure() -> None:
    train, test = labelled_table(300, seed=12), labelled_table(150, seed=13)
    synthetic = labelled_table(300, seed=14)
    report = quality_report(train, test, synthetic, ["group", "label"], target="label", positive="yes")
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    for key in [
        "column_shapes",
        "column_pair_trends",
        "quality_score",
        "column_pair_trends_related",
        "ml_efficacy_f1",
        "ml_efficacy_f1_real",
        "dcr_synthetic_p5",
        "dcr_synthetic_median",
        "dcr_holdout_p5",
        "dcr_holdout_median",
        "exact_copies",
        "exact_copies_holdout",
    ]:
        assert isinstance(report[key], float), key
    assert report["column_shapes"] > 0.8 and report["ml_efficacy_f1"] > 0.6
    assert [d["column"] for d in report["details"]["column_shapes"]] == ["a", "b", "group", "label"]
    first_pair = report["details"]["column_pair_trends"][0]
    assert first_pair["columns"] == ["a", "b"] and first_pair["metric"] == "CorrelationSimilarity"
    assert set(report["details"]["ml_efficacy"]) == {"synthetic", "real"}
    assert "ml_efficacy_f1" not in quality_report(train, test, synthetic, ["group", "label"])


def test_bad_input_raises_value_error_naming_the_column() -> None:
    table = related_table(20, seed=15)
    with pytest.raises(ValueError, match="synthetic lacks the column 'size'"):
        column_shapes(table, table.drop(columns=["size"]), CATEGORICAL)
    with pytest.raises(ValueError, match="synthetic has the column 'extra'"):
        column_pair_trends(table, table.assign(extra=1.0), CATEGORICAL)
    with pytest.raises(ValueError, match="'shape'"):
        column_shapes(table, table, [*CATEGORICAL, "shape"])
    with pytest.raises(ValueError, match="column 'colour' of real is not numeric"):
        column_pair_trends(table, table, ["size"])
    with pytest.raises(ValueError, match="'colour'"):
        distance_to_closest_record(table, table, table.drop(columns=["colour"]), CATEGORICAL)
    with pytest.raises(ValueError, match="target column 'label'"):
        ml_efficacy(table, table, "label", "yes", CATEGORICAL)
    with pytest.raises(ValueError, match="both target and positive"):
        quality_report(table, table, table, CATEGORICAL, target="colour")
