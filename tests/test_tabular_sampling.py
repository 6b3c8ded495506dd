"""Training-by-sampling (Xu et al. 2019 §4.3) in TabularVAE: the training rows' draw, the sampling-time
conditions, the effect on a fitted model and the setting's round trip."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from vaelab import TabularVAE
from vaelab.applications.synthetic.training_sampling import (
    category_counts,
    log_frequency,
    real_frequency,
    sampler_log_likelihood,
    sampling_conditions,
    training_rows,
)
from vaelab.conditions.columns import ColumnsCondition
from vaelab.data.schema import Feature
from vaelab.errors import UserError


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_log_frequency_is_ctgans_formula():
    p = log_frequency([99, 1, 0])
    assert p == pytest.approx([math.log(100) / math.log(200), math.log(2) / math.log(200), 0.0])


def conditions_table() -> np.ndarray:
    """Two conditionable columns: one with a 1 % category, one balanced with a few missing cells."""
    y = np.zeros((1000, 2), dtype=np.float32)
    y[:10, 0] = 1  # the rare category
    y[::2, 1] = 1
    y[::97, 1] = np.nan
    return y


def test_training_rows_follow_log_frequency():
    y = conditions_table()
    counts = category_counts(y, [2, 2])
    assert counts == [[990, 10], [495, 494]]  # missing cells count for no category
    rows, given = training_rows(y, counts, 40_000, np.random.default_rng(0))
    shown = ~np.isnan(given)
    assert (shown.sum(axis=1) == 1).all()  # one (column, category) per row
    column = shown.argmax(axis=1)
    category = given[np.arange(len(rows)), column]
    assert (y[rows, column] == category).all()  # the drawn row holds the drawn category
    assert np.mean(column == 0) == pytest.approx(0.5, abs=0.015)  # columns uniformly
    rare = np.mean(category[column == 0] == 1)
    assert rare == pytest.approx(log_frequency(counts[0])[1], abs=0.015)  # 0.25, not the rows' 0.01
    assert np.mean(y[rows, 0] == 1) > 0.1  # the rare category's rows are trained on far more often


def test_frequency_sampling_draws_categories_as_they_occur():
    y = conditions_table()
    counts = category_counts(y, [2, 2])
    _, given = training_rows(y, counts, 40_000, np.random.default_rng(2), real_frequency)
    first = given[~np.isnan(given[:, 0]), 0]
    assert np.mean(first == 1) == pytest.approx(0.01, abs=0.003)


def test_sampling_conditions_follow_real_frequency():
    y = conditions_table()
    given = sampling_conditions(category_counts(y, [2, 2]), 40_000, np.random.default_rng(1))
    first = given[~np.isnan(given[:, 0]), 0]
    assert len(first) / len(given) == pytest.approx(0.5, abs=0.015)
    assert np.mean(first == 1) == pytest.approx(0.01, abs=0.003)


def toy_conditionals(leak: float):
    """Two 0/1 conditionable columns A and B, rows x = (a, b). Given column A as k, the model puts 1 - leak on
    a = k and draws b with P(b = 1) = 0.8 if k else 0.3; given B as k, a = k with 1 - leak and P(a = 1) = 0.6.
    Returns ``log_p_given(rows, y)`` over the table of all four rows, and the exact log p_s of each row."""
    table = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    counts = [[3, 1], [1, 1]]  # real frequencies: P_A = (3/4, 1/4), P_B = (1/2, 1/2)

    def p_given(a: float, b: float, column: int, k: int) -> float:
        own, other = (a, b) if column == 0 else (b, a)
        p_own = 1 - leak if own == k else leak
        rate = (0.8 if k else 0.3) if column == 0 else 0.6
        return p_own * (rate if other == 1 else 1 - rate)

    def log_p_given(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        column = (~np.isnan(y)).argmax(axis=1)
        return np.log([p_given(*x, c, int(y[i, c])) for i, (x, c) in enumerate(zip(table[rows], column, strict=True))])

    exact = np.log(
        [
            0.5 * sum(f / sum(counts[c]) * p_given(a, b, c, k) for c in (0, 1) for k, f in enumerate(counts[c]))
            for a, b in table
        ]
    )
    return table, counts, log_p_given, exact


def test_sampler_log_likelihood_bounds_the_sampled_mixture():
    """log p_s(x) >= logsumexp_j [log P_j(x_j) + log p(x | column j is x_j)] - log J, with equality for a model
    that reproduces the given category; a row missing every conditionable cell gets -inf."""
    table, counts, log_p_given, exact = toy_conditionals(leak=0.0)
    np.testing.assert_allclose(sampler_log_likelihood(table, counts, log_p_given), exact, rtol=1e-12)
    table, counts, log_p_given, exact = toy_conditionals(leak=0.2)
    bound = sampler_log_likelihood(table, counts, log_p_given)
    assert (bound < exact).all() and (bound > exact - np.log(2)).all()
    partial = table.copy()
    partial[0, 0] = np.nan  # row 0 keeps only column B's term
    partial[1] = np.nan  # row 1 has no conditionable cell
    bound = sampler_log_likelihood(partial, counts, log_p_given)
    assert bound[0] == pytest.approx(np.log(0.5 * 0.5 * (0.8 * 0.4)))  # P_B(0) p(a = 0, b = 0 | B = 0) / 2
    assert bound[1] == -np.inf


def rare_label_table(n: int = 1500) -> pd.DataFrame:
    """A numeric table (as ADBench's) whose 0/1 ``label`` is 4 % ones, set apart by a shifted column ``a``."""
    rng = np.random.default_rng(0)
    label = (rng.random(n) < 0.04).astype(np.int64)
    return pd.DataFrame({"a": rng.normal(size=n) + 4.0 * label, "b": rng.normal(size=n), "label": label})


def short_fit(frame: pd.DataFrame, sampling: str) -> TabularVAE:
    model = TabularVAE(sampling=sampling, epochs=120, hidden_dims=(32, 32), latent_dim=4, components=2, threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit may trail the marginals
        return model.fit(frame)


def test_log_frequency_keeps_the_real_frequencies_and_the_rare_rows():
    frame = rare_label_table()
    model = short_fit(frame, "log-frequency")
    label = next(f for f in model.features_ if f.name == "label")
    assert label.kind == "categorical" and label.categories == ("0", "1")  # a 0/1 column joins the condition
    assert model.condition_columns_ == [2]
    synthetic = model.sample(6000, random_state=3)
    assert synthetic["label"].dtype == frame["label"].dtype
    assert synthetic["label"].mean() == pytest.approx(frame["label"].mean(), abs=0.02)
    shift = synthetic.loc[synthetic["label"] == 1, "a"].mean() - synthetic.loc[synthetic["label"] == 0, "a"].mean()
    assert shift > 2.5  # the rare rows carry the feature that sets them apart (4 in the data)
    conditioned = model.sample(500, conditions={"label": 1}, random_state=4)
    assert (conditioned["label"] == 1).all() and conditioned["a"].mean() > 2.5


def test_log_frequency_is_the_default_and_uniform_leaves_binary_columns_alone():
    assert TabularVAE().settings.sampling == "log-frequency"
    assert TabularVAE(conditional=False).settings.sampling == "uniform"  # nothing to condition on
    model = TabularVAE(sampling="uniform", epochs=1, hidden_dims=(8,), latent_dim=2, threads=1)
    short = rare_label_table(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(short)
    assert [f.kind for f in model.features_] == ["continuous", "continuous", "binary"]
    assert model.condition_columns_ == []


def test_the_condition_hides_by_its_shares():
    """Rows that give one column each (as training-by-sampling's do): the column is shown in a
    (1 - show_none) * show_column share of them, 0.25 under the condition's defaults."""
    features = [Feature("c", "categorical", categories=("x", "y", "z"))] * 2
    y = torch.full((20_000, 2), float("nan"))
    y[:, 0] = torch.randint(0, 3, (20_000,)).float()
    torch.manual_seed(0)
    for condition, shown in ((ColumnsCondition(features), 0.25), (ColumnsCondition(features, 0.1, 1.0), 0.9)):
        drawn = condition.draw(y)
        assert torch.isnan(drawn[:, 1]).all()  # a column not given stays hidden
        kept = ~torch.isnan(drawn[:, 0])
        assert kept.float().mean().item() == pytest.approx(shown, abs=0.015)
        assert torch.equal(drawn[kept, 0], y[kept, 0])  # what is shown is shown as given


def test_sampling_round_trips_through_save_and_load(tmp_path):
    model = short_fit(rare_label_table(300), "log-frequency")
    condition = model.model.condition
    assert isinstance(condition, ColumnsCondition)  # trained with its drawn (column, category) given 9 rows in 10
    assert (condition.show_none, condition.show_column) == pytest.approx((0.1, 1.0))
    model.save(tmp_path)
    loaded = TabularVAE.load(tmp_path)
    assert loaded.settings.sampling == "log-frequency"
    loaded_condition = loaded.model.condition
    assert isinstance(loaded_condition, ColumnsCondition)
    assert (loaded_condition.show_none, loaded_condition.show_column) == pytest.approx((0.1, 1.0))
    assert loaded.condition_counts_ == model.condition_counts_
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=5), model.sample(50, random_state=5))


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="sampling must be one of"):
        TabularVAE(sampling="log")
    assert TabularVAE(sampling="frequency").settings.sampling == "frequency"
    with pytest.raises(UserError, match="conditional=True"):
        TabularVAE(sampling="log-frequency", conditional=False)
    for share in (0.0, 1.5):
        with pytest.raises(UserError, match="given_share must be in"):
            TabularVAE(sampling="log-frequency", given_share=share)
