"""TabularVAE on DataFrames: kinds and dtypes kept, conditional synthesis, embeddings, scores, save and load,
the comparison with per-column marginals, and bad input named by column."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vaelab import TabularVAE, UserError
from vaelab.applications.synthetic.tabular_vae import WorseThanMarginalsWarning
from vaelab.data.table_columns import decode_columns, encode_columns, fit_features, recode_columns
from vaelab.evaluation.table_marginals import marginal_log_likelihood

torch.set_num_threads(1)

GROUP_MEANS = {"a": -3.0, "b": 0.0, "c": 3.0}


def make_table(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A group decides the mean of ``x``, the rate of ``flag`` and the size of ``count``; ``age`` is whole."""
    rng = np.random.default_rng(seed)
    group = rng.choice(list(GROUP_MEANS), size=rows)
    x = np.array([GROUP_MEANS[g] for g in group]) + rng.normal(0, 0.3, rows)
    flag = rng.random(rows) < np.where(group == "c", 0.9, 0.1)
    age = rng.integers(20, 60, rows)
    return pd.DataFrame({"group": group, "x": x, "flag": flag, "age": age})


@pytest.fixture(scope="module")
def fitted() -> TabularVAE:
    return TabularVAE(epochs=60, batch_size=100, latent_dim=4, hidden_dims=[64, 64], threads=1).fit(make_table())


def test_codec_round_trip_keeps_values_categories_and_missing_cells() -> None:
    columns = {
        "colour": np.array(["red", None, "blue", "red"], dtype=object),
        "size": np.array([1.5, 2.5, np.nan, 4.0]),
        "visits": np.array([0.0, 3.0, 1.0, 7.0]),
        "flag": np.array([0.0, 1.0, 1.0, 0.0]),
    }
    features = fit_features(columns, kinds={"visits": "count"})
    assert [f.kind for f in features] == ["categorical", "continuous", "count", "binary"]
    x = encode_columns(columns, features)
    assert x.dtype == np.float32 and np.isnan(x[1, 0]) and np.isnan(x[2, 1])
    assert x[:, 0][~np.isnan(x[:, 0])].tolist() == [1.0, 0.0, 1.0]  # (blue, red)
    assert abs(np.nanmean(x[:, 1])) < 1e-6  # standardised on the rows given
    back = decode_columns(x, features)
    assert back["colour"].tolist() == ["red", None, "blue", "red"]
    np.testing.assert_allclose(back["size"], columns["size"], rtol=1e-6)
    np.testing.assert_array_equal(back["visits"], columns["visits"])


def test_codec_scales_on_training_rows_and_recodes_onto_a_fitted_model() -> None:
    columns = {"v": np.arange(10.0), "c": np.array(list("ababababab"), dtype=object)}
    features = fit_features(columns, train_rows=np.arange(5))
    assert features[0].loc == 2.0 and features[0].low == 0.0 and features[0].high == 4.0
    other = {"v": np.arange(10.0) + 100, "c": np.array(list("bbbbbbbbbb"), dtype=object)}
    own = fit_features(other)
    recoded = recode_columns(encode_columns(other, own), own, features)
    np.testing.assert_allclose(recoded, encode_columns(other, features), rtol=1e-6)
    with pytest.raises(UserError, match="lacks column 'c'"):
        recode_columns(encode_columns({"v": other["v"]}, own[:1]), own[:1], features)


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        ({"gone": np.array([np.nan, np.nan])}, "column 'gone' has no values (every cell is missing)"),
        ({"id": np.array([f"row{i}" for i in range(200)], dtype=object)}, "column 'id' holds 200 different texts"),
    ],
)
def test_codec_refuses_columns_it_cannot_model(columns: dict[str, np.ndarray], needle: str) -> None:
    with pytest.raises(UserError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        fit_features(columns)


def test_fit_learns_more_than_the_marginals_and_keeps_columns_and_dtypes(fitted: TabularVAE) -> None:
    assert fitted.validation_bound_ is not None and fitted.marginal_bound_ is not None
    assert fitted.validation_bound_ > fitted.marginal_bound_ + 0.5  # the group explains x and flag
    synthetic = fitted.sample(400, random_state=1)
    assert list(synthetic.columns) == ["group", "x", "flag", "age"]
    assert synthetic["age"].dtype == np.int64 and synthetic["flag"].dtype == bool
    assert synthetic["x"].dtype == np.float64 and set(synthetic["group"]) <= set(GROUP_MEANS)
    assert synthetic["age"].between(20, 59).all()  # clipped to the training range, whole numbers
    real = make_table()
    shares = synthetic["group"].value_counts(normalize=True)
    assert all(abs(shares.get(g, 0) - (real["group"] == g).mean()) < 0.1 for g in GROUP_MEANS)


def test_conditional_sampling_fixes_the_column_and_shifts_the_others(fitted: TabularVAE) -> None:
    rows = fitted.sample(400, conditions={"group": "c"}, random_state=2)
    assert (rows["group"] == "c").all()
    assert abs(rows["x"].mean() - GROUP_MEANS["c"]) < 0.5  # the real group-c rows: mean 3, sd 0.3
    assert rows["flag"].mean() > 0.7  # group c: flag with probability 0.9, the others 0.1
    other = fitted.sample(400, conditions={"group": "a"}, random_state=2)
    assert abs(other["x"].mean() - GROUP_MEANS["a"]) < 0.5 and other["flag"].mean() < 0.3
    repeat = fitted.sample(400, conditions={"group": "c"}, random_state=2)
    pd.testing.assert_frame_equal(rows, repeat)  # seeded


def test_embeddings_and_scores(fitted: TabularVAE) -> None:
    table = make_table(50, seed=3)
    assert fitted.transform(table).shape == (50, 4)
    typical = fitted.score_samples(table.head(20), num_samples=20)
    odd = table.head(20).assign(x=25.0)  # far outside every group
    assert typical.shape == (20,) and (fitted.score_samples(odd, num_samples=20) < typical).all()
    with_gaps = table.head(5).copy()
    with_gaps.loc[0, "x"] = np.nan  # a missing cell is left out of the score, not an error
    assert np.isfinite(fitted.score_samples(with_gaps, num_samples=5)).all()


def test_save_and_load_give_the_same_model(fitted: TabularVAE, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model")
    loaded = TabularVAE.load(tmp_path / "model")
    table = make_table(30, seed=4)
    np.testing.assert_array_equal(loaded.transform(table), fitted.transform(table))
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=5), fitted.sample(50, random_state=5))
    assert loaded.validation_bound_ == fitted.validation_bound_
    assert not any(path.suffix in {".pkl", ".pt"} for path in (tmp_path / "model").iterdir())


@pytest.mark.filterwarnings("ignore::vaelab.applications.synthetic.tabular_vae.WorseThanMarginalsWarning")
def test_missing_cells_are_trained_around() -> None:
    table = make_table(200)
    table.loc[::7, "x"] = np.nan
    table.loc[::11, "group"] = None
    model = TabularVAE(epochs=3, batch_size=50, latent_dim=2, hidden_dims=[16], threads=1).fit(table)
    synthetic = model.sample(20)
    assert not synthetic.isna().any().any()  # the model draws every cell


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda m: m.sample(5, conditions={"colour": "red"}), "cannot condition on 'colour': the table has no such"),
        (lambda m: m.sample(5, conditions={"group": "z"}), "column 'group' has no category 'z'"),
        (lambda m: m.sample(5, conditions={"x": 1.0}), "only categorical columns are conditionable (group, flag)"),
        (lambda m: m.transform(make_table(5).rename(columns={"x": "y"})), "lacks column 'x'"),
        (lambda m: m.transform(make_table(5).assign(group="q")), "column 'group' has no category 'q'"),
        (lambda m: m.sample(0), "n must be at least 1"),
    ],
)
def test_bad_input_is_one_line_naming_the_column(fitted: TabularVAE, call, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as caught:
        call(fitted)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_unfitted_and_unusable_tables() -> None:
    with pytest.raises(UserError, match="not fitted yet"):
        TabularVAE().sample(3)
    with pytest.raises(UserError, match="column 'empty' has no values"):
        TabularVAE(epochs=1).fit(make_table(30).assign(empty=np.nan))
    with pytest.raises(UserError, match="expected a pandas DataFrame"):
        TabularVAE(epochs=1).fit(np.zeros((5, 2)))


def test_a_model_no_better_than_marginals_says_so() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TabularVAE(epochs=1, lr=1e-7, batch_size=50, hidden_dims=[8], threads=1).fit(make_table(200))
    assert any(issubclass(w.category, WorseThanMarginalsWarning) for w in caught)


@pytest.mark.filterwarnings("ignore::vaelab.applications.synthetic.tabular_vae.WorseThanMarginalsWarning")
def test_declared_counts_and_ordinals_are_drawn_as_whole_numbers() -> None:
    table = make_table(200)
    rng = np.random.default_rng(5)
    table["visits"] = rng.poisson(3, 200)
    table["grade"] = rng.integers(0, 4, 200)
    kinds = {"visits": "count", "grade": "ordinal"}
    model = TabularVAE(epochs=3, batch_size=50, latent_dim=2, hidden_dims=[16], threads=1, kinds=kinds).fit(table)
    assert [f.kind for f in model.features_][-2:] == ["count", "ordinal"] and model.features_[-1].levels == 4
    rows = model.sample(100, random_state=0)
    assert rows["visits"].dtype == np.int64 and (rows["visits"] >= 0).all()
    assert set(rows["grade"]) <= {0, 1, 2, 3}
    with pytest.raises(UserError, match="column 'grade' is declared ordinal but holds negative or fractional"):
        TabularVAE(epochs=1, kinds=kinds).fit(table.assign(grade=table["grade"] - 0.5))


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"latent_dim": 0}, "latent_dim must be at least 1, not 0"),
        ({"epochs": 0}, "epochs must be at least 1, not 0"),
        ({"min_scale": 0.0}, "min_scale must be positive"),
        ({"integer_floor": 0.0}, "integer_floor must be positive (or None), not 0.0"),
        ({"atom_share": 0.0}, "atom_share must be in (0, 1] (or None), not 0.0"),
        ({"beta": -1.0}, "beta must be positive"),
        ({"validation": 1.0}, "validation must be in [0, 1)"),
        ({"continuous": "beta"}, "continuous must be 'gaussian' or 'mixture'"),
        ({"continuous_input": "log"}, "continuous_input must be 'standardised' or 'asinh', not 'log'"),
        ({"lr_schedule": "linear"}, "lr_schedule must be 'constant' or 'cosine' (there is no time budget here), not"),
        ({"lr_schedule": "cosine-time"}, "lr_schedule must be 'constant' or 'cosine' (there is no time budget here)"),
        ({"draws": 0}, "draws must be at least 1, not 0"),
        ({"min_steps": 0}, "min_steps must be at least 1, not 0"),
        ({"ema_decay": 1.0}, "ema_decay must be in (0, 1), not 1.0"),
    ],
)
def test_bad_settings_are_one_line_user_errors(settings: dict[str, object], needle: str) -> None:
    with pytest.raises(UserError) as caught:
        TabularVAE(**settings)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_cosine_schedule_decays_the_rate_and_is_kept_on_save(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = TabularVAE(lr_schedule="cosine", epochs=4, latent_dim=2, hidden_dims=[8], threads=1)
    rates: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # four epochs may trail the marginals
        model.fit(make_table(100), callbacks=[lambda record: rates.append(record["lr"])])
    assert rates == sorted(rates, reverse=True) and rates[-1] < 0.01 * model.settings.lr  # to 0 by the last step
    model.save(tmp_path)
    assert TabularVAE.load(tmp_path).settings.lr_schedule == "cosine"


def test_without_epochs_a_fit_takes_600_epochs_or_min_steps_steps_if_more() -> None:
    assert TabularVAE().steps(90) == 6000  # 90 rows: one batch a pass, so 6000 passes
    assert TabularVAE(min_steps=8000).steps(90) == 8000
    assert TabularVAE(min_steps=8000).steps(50_000) == 600 * 100  # 100 batches of 500: 600 epochs take more
    assert TabularVAE(min_steps=8000, epochs=2).steps(90) == 2  # given epochs win


def test_more_draws_train_on_as_many_fresh_rows_in_the_same_steps() -> None:
    steps: dict[int, list[int]] = {}
    for draws in (1, 3):
        model = TabularVAE(draws=draws, epochs=6, batch_size=30, latent_dim=2, hidden_dims=[8], threads=1)
        steps[draws] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # six epochs may trail the marginals
            model.fit(make_table(100), callbacks=[lambda record, d=draws: steps[d].append(record["step"])])
        assert model.steps(90) == 18  # 90 training rows (10 held out): 6 passes of 3 batches
    assert steps == {1: [3, 6, 9, 12, 15, 18], 3: [9, 18]}  # three draws: each pass covers all of them


def test_a_model_saved_before_integer_floor_and_atoms_loads_as_it_was_trained(tmp_path: Path) -> None:
    import json

    table = make_table(200).assign(gain=np.where(np.arange(200) % 10 == 0, 5000 + np.arange(200) * 37, 0))
    model = TabularVAE(
        epochs=2, latent_dim=2, hidden_dims=[8], threads=1, integer_floor=None, atom_share=None, validation=0
    )
    model.fit(table)
    model.save(tmp_path)
    added = ("integer_floor", "atom_share", "mode", "mode_share")  # settings and feature fields added since

    def without_setting(value: object) -> object:
        if isinstance(value, dict):
            return {k: without_setting(v) for k, v in value.items() if k not in added}
        return [without_setting(v) for v in value] if isinstance(value, list) else value

    for name in ("tabular.json", "model.json"):  # remove every trace of the settings, as older saves lack them
        path = tmp_path / name
        path.write_text(json.dumps(without_setting(json.loads(path.read_text()))))
        assert not any(f'"{key}"' in path.read_text() for key in added)
    loaded = TabularVAE.load(tmp_path)
    assert loaded.settings.integer_floor is None and loaded.settings.atom_share is None
    assert loaded.sample(50, random_state=3).equals(model.sample(50, random_state=3))
    assert TabularVAE().settings.integer_floor == 0.1 and TabularVAE().settings.atom_share == 0.05  # new fits'
    floored = TabularVAE(epochs=2, latent_dim=2, hidden_dims=[8], threads=1, validation=0).fit(table)
    gain = next(j for j, f in enumerate(floored.features_) if f.name == "gain")
    continuous = [j for j, f in enumerate(floored.features_) if f.kind == "continuous"]
    floors = floored.model.likelihood.families[0].floors.tolist()
    assert floors[continuous.index(gain)] == pytest.approx(0.1 / floored.features_[gain].scale)
    atoms = floored.model.likelihood.families[0].atoms.tolist()  # gain's zeros (90 %) are an atom, x has none
    assert atoms[continuous.index(gain)] == pytest.approx(-floored.features_[gain].loc / floored.features_[gain].scale)
    assert np.isnan(atoms[[floored.features_[j].name for j in continuous].index("x")])


def test_atoms_give_back_a_spike_that_mixture_components_blur() -> None:
    """A column that is 0 in 90 % of rows, and otherwise spread over thousands (Adult's capital-gain): with its
    zeros an atom the synthetic rows hold 0 about as often, and the held-out bound is compared with marginals
    that score the zeros the same way."""
    rng = np.random.default_rng(0)
    rows = 2000
    group = rng.choice(["a", "b"], rows)
    gain = np.where(rng.random(rows) < 0.9, 0, rng.integers(1000, 20_000, rows)) * np.where(group == "b", 2, 1)
    table = pd.DataFrame({"group": group, "gain": gain, "x": rng.normal(size=rows)})
    models, zeros = {}, {}
    for atom_share in (0.05, None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a short fit may trail the marginals
            model = TabularVAE(epochs=60, latent_dim=4, hidden_dims=[64, 64], threads=1, atom_share=atom_share)
            models[atom_share] = model.fit(table)
        zeros[atom_share] = (model.sample(4000, random_state=1)["gain"] == 0).mean()
    real = (gain == 0).mean()
    assert zeros[0.05] == pytest.approx(real, abs=0.02)
    assert abs(zeros[None] - real) > 0.1  # the components alone: their draws spread around 0
    # the marginals score the zeros by their share, as the model does: a closer fit than one Gaussian over all values
    with_atoms, without = models[0.05].marginal_bound_, models[None].marginal_bound_
    assert with_atoms is not None and without is not None and with_atoms > without + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaussian = TabularVAE(epochs=2, latent_dim=2, hidden_dims=[8], threads=1, continuous="gaussian").fit(table)
    train, valid = (gaussian._rows(table.iloc[rows]) for rows in gaussian.split_rows(len(table)).values())
    # one Gaussian per column has no atoms (atom_share does not apply), so neither have its marginals
    assert gaussian.marginal_bound_ == pytest.approx(marginal_log_likelihood(train, valid, gaussian.features_).mean())
