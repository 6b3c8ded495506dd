"""Saving a fitted VAEDetector: the numpy preprocessor against the scikit-learn construction it replaced, its
JSON state, and a detector's save / load round trip (tables, images, ensembles) with one-line errors."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, RobustScaler, StandardScaler

from vaelab import UserError, VAEDetector
from vaelab.applications.anomaly.images import ImagePreprocessor
from vaelab.applications.anomaly.preprocessing import (
    MAX_CATEGORIES,
    QUANTILES,
    SCALINGS,
    ConstantColumnsWarning,
    TabularPreprocessor,
)

# Tiny fits stop long before convergence, so their posteriors often look collapsed.
pytestmark = pytest.mark.filterwarnings("ignore::vaelab.applications.anomaly.PosteriorCollapseWarning")

FAST = {"epochs": 3, "hidden_dims": (16, 16), "latent_dim": 2, "num_samples": 4}
"""A tiny configuration: each fit takes well under a second of CPU time."""
NUMERIC = 7
"""Numeric columns of :func:`mixed_table` (categorical ones follow)."""


# ------------------------------------------------------------------ preprocessing against scikit-learn
def mixed_table(n: int, seed: int, missing: bool) -> np.ndarray:
    """An object table: heavy tails, ties, a constant, a column mostly one value (zero IQR), one mostly
    missing (with impute its IQR is zero once filled); categories: 80 and exactly 50 of skewed frequency,
    3, and one empty column when ``missing``."""
    rng = np.random.default_rng(seed)
    numeric = np.column_stack(
        [
            rng.standard_cauchy(n),
            rng.standard_t(2, n) * 1e3 + 5e4,
            rng.integers(0, 6, n).astype(float),  # ties: repeated quantiles
            np.full(n, 3.5),  # constant: left out
            np.where(rng.random(n) < 0.7, 1.0, rng.normal(size=n)),  # IQR 0: mean / std instead
            rng.lognormal(0, 2, n),
            rng.normal(size=n),
        ]
    )
    wide = rng.zipf(1.3, n) % 80
    exact = rng.integers(0, 50, n) if n >= 500 else np.arange(n) % 50
    columns = [[f"w{k}" for k in wide], [f"e{k:02d}" for k in exact], rng.choice(["red", "green", "blue"], n)]
    table = np.empty((n, NUMERIC + 3 + missing), dtype=object)
    table[:, :NUMERIC] = numeric
    for j, values in enumerate(columns):
        table[:, NUMERIC + j] = values
    if missing:
        table[rng.random(n) < 0.08, 0] = np.nan
        table[rng.random(n) < 0.6, 6] = np.nan
        table[rng.random(n) < 0.1, NUMERIC] = np.nan
        table[rng.random(n) < 0.05, NUMERIC + 2] = np.nan
        table[:, -1] = np.nan  # no value at all
    return table


def new_rows(seed: int, missing: bool) -> np.ndarray:
    """Rows to transform: unseen categories, values beyond the training range, missing cells."""
    rows = mixed_table(200, seed, missing)
    rows[:20, :NUMERIC] *= 1e6
    rows[20:30, NUMERIC] = "never-seen"
    rows[30:40, NUMERIC + 1] = "e99"
    rows[40:50, NUMERIC + 2] = "purple"
    return rows


def sklearn_reference(train: np.ndarray, scaling: str, missing: str, categorical: list[int]) -> ColumnTransformer:
    """The ColumnTransformer the preprocessor was built from (vaelab before saving), fitted on ``train``."""
    numeric = {i: train[:, i].astype(np.float64) for i in range(train.shape[1]) if i not in categorical}
    varying = [i for i, v in numeric.items() if np.nanmax(v) > np.nanmin(v)]
    values = np.stack([numeric[i] for i in varying], axis=1)
    if scaling == "robust":
        q1, q3 = np.nanpercentile(values, [25, 75], axis=0)
        flat = q3 == q1
        groups = [
            (RobustScaler(unit_variance=True), np.flatnonzero(~flat).tolist()),
            (StandardScaler(), np.flatnonzero(flat).tolist()),
        ]
    elif scaling == "standard":
        groups = [(StandardScaler(), list(range(len(varying))))]
    else:
        quantiles = QuantileTransformer(
            output_distribution="normal", n_quantiles=min(QUANTILES, len(train)), subsample=None
        )
        groups = [(quantiles, list(range(len(varying))))]
    imputer = [SimpleImputer(strategy="median")] if missing == "impute" else []
    steps = [
        (f"numeric-{k}", make_pipeline(*imputer, scaler), [varying[j] for j in positions])
        for k, (scaler, positions) in enumerate(groups)
    ]
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False)
    category_imputer = [SimpleImputer(strategy="most_frequent", missing_values=np.nan)] if missing == "impute" else []
    steps.append(("categorical", make_pipeline(*category_imputer, encoder), categorical))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0).fit(train)


@pytest.mark.parametrize("missing", ["error", "impute"])
@pytest.mark.parametrize("scaling", list(SCALINGS))
def test_the_numpy_preprocessor_maps_rows_as_the_sklearn_construction_did(scaling: str, missing: str) -> None:
    """Equal to float32 precision (in fact bit for bit here). The one difference is a warning: an empty
    categorical column is left out with ConstantColumnsWarning at fit, where scikit-learn's imputer dropped it
    with 'Skipping features without any observed values' at every transform."""
    impute = missing == "impute"
    train, rows = mixed_table(1500, 0, impute), new_rows(1, impute)  # 1500 rows: 1000 quantiles of 1500
    categorical = list(range(NUMERIC, train.shape[1]))
    with pytest.warns(ConstantColumnsWarning) as caught:
        ours = TabularPreprocessor(scaling, missing, categorical).fit(train)
    assert ours.constant_ == (["3", "10"] if impute else ["3"])  # the empty categorical column: dropped
    assert "'3'" in str(caught[0].message)
    with warnings.catch_warnings():  # scikit-learn: 'Skipping features without any observed values'
        warnings.simplefilter("ignore", UserWarning)
        reference = sklearn_reference(train, scaling, missing, categorical)
        expected = [reference.transform(x).astype(np.float32) for x in (train, rows)]
    for x, want in zip((train, rows), expected, strict=True):
        got = ours.transform(x)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert ours.num_model_features_ == expected[0].shape[1] == NUMERIC - 1 + MAX_CATEGORIES * 2 + 3


def test_a_numeric_array_maps_as_the_sklearn_construction_did() -> None:
    train = mixed_table(300, 2, missing=False)[:, :NUMERIC].astype(np.float64)
    with pytest.warns(ConstantColumnsWarning):
        ours = TabularPreprocessor("quantile").fit(train)
    want = sklearn_reference(train, "quantile", "error", []).transform(train * 1.5).astype(np.float32)
    np.testing.assert_allclose(ours.transform(train * 1.5), want, rtol=1e-6, atol=1e-6)


def test_the_fitted_state_is_json_and_maps_rows_identically() -> None:
    train, rows = mixed_table(400, 3, missing=True), new_rows(4, missing=True)
    with pytest.warns(ConstantColumnsWarning):
        fitted = TabularPreprocessor("quantile", "impute", list(range(NUMERIC, train.shape[1]))).fit(train)
    loaded = TabularPreprocessor.from_state(json.loads(json.dumps(fitted.state(), allow_nan=False)))
    assert np.array_equal(loaded.transform(rows), fitted.transform(rows))
    assert loaded.state() == fitted.state()


def test_image_preprocessor_state_round_trips() -> None:
    fitted = ImagePreprocessor().fit(np.zeros((4, 3, 8, 8), dtype=np.uint8))
    loaded = ImagePreprocessor.from_state(json.loads(json.dumps(fitted.state())))
    assert loaded.data_shape_ == fitted.data_shape_ == (3, 8, 8)


# ------------------------------------------------------------------ a detector's save and load
def frame(n: int, seed: int) -> pd.DataFrame:
    """Two related numbers (a few missing), a two-valued flag, a colour and a size (categorical, a few missing)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    table = pd.DataFrame(
        {
            "a": a,
            "b": 2 * a + 0.1 * rng.normal(size=n),
            "flag": np.where(a > 0, 7.0, 3.0),
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": rng.choice(["s", "m", "l"], n).astype(object),
        }
    )
    table.loc[rng.random(n) < 0.05, "a"] = np.nan
    table.loc[rng.random(n) < 0.05, "size"] = None
    return table


def assert_same_detector(loaded: VAEDetector, original: VAEDetector, x: object) -> None:
    """Equal parameters, identical scores and flags, and the fitted attributes scikit-learn reads."""
    assert loaded.get_params() == original.get_params()
    assert np.array_equal(loaded.score_samples(x), original.score_samples(x))
    assert np.array_equal(loaded.predict(x), original.predict(x))
    assert loaded.offset_ == original.offset_ and loaded.seeds_ == original.seeds_
    assert np.array_equal(loaded.kl_per_dim_, original.kl_per_dim_)
    assert np.array_equal(loaded.active_units_, original.active_units_)


def test_a_table_detector_with_categories_and_imputation_round_trips(tmp_path: Path) -> None:
    train = frame(120, 0)
    detector = VAEDetector(
        missing="impute", scaling="quantile", n_models=2, contamination=0.1, random_state=0, **FAST
    ).fit(train)
    detector.save(tmp_path / "detector")
    assert sorted(p.name for p in (tmp_path / "detector").iterdir()) == ["detector.json", "model-0", "model-1"]
    loaded = VAEDetector.load(tmp_path / "detector")
    new = frame(40, 1)
    new.loc[0, "colour"] = "purple"  # unseen
    assert_same_detector(loaded, detector, new)
    assert loaded.get_params()["hidden_dims"] == (16, 16)  # a tuple again
    assert list(loaded.feature_names_in_) == ["a", "b", "flag", "colour", "size"] and loaded.n_features_in_ == 5
    assert type(loaded.models_[0].likelihood).__name__ == "ColumnsLikelihood"  # flag and categories: Bernoulli
    with pytest.raises(ValueError, match="feature names"):  # scikit-learn's checks still apply
        loaded.score_samples(new[["b", "a", "flag", "colour", "size"]])


def test_an_image_detector_round_trips(tmp_path: Path) -> None:
    images = (load_digits().images[:60] / 16).astype(np.float32)
    detector = VAEDetector(epochs=1, num_samples=2, random_state=0).fit(images)
    detector.save(tmp_path)
    loaded = VAEDetector.load(tmp_path)
    assert_same_detector(loaded, detector, images[:20])
    assert not hasattr(loaded, "n_features_in_") and loaded.preprocessor_.data_shape_ == (1, 8, 8)


def test_overwriting_a_saved_detector_replaces_it_and_a_random_state_object_is_saved_as_none(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(40, 3))
    VAEDetector(n_models=2, random_state=0, **FAST).fit(x).save(tmp_path)
    detector = VAEDetector(n_models=1, random_state=np.random.RandomState(1), **FAST).fit(x)
    detector.save(tmp_path)
    assert not (tmp_path / "model-1").exists()  # the earlier ensemble's second model is gone
    loaded = VAEDetector.load(tmp_path)
    assert loaded.random_state is None and loaded.seeds_ == detector.seeds_
    assert np.array_equal(loaded.score_samples(x), detector.score_samples(x))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("saved")
    VAEDetector(random_state=0, **FAST).fit(np.random.default_rng(0).normal(size=(30, 3))).save(directory)
    return directory


def edited(saved: Path, tmp_path: Path, edit: object) -> Path:
    """A copy of the saved detector with ``edit(description)`` applied to detector.json."""
    shutil.copytree(saved, tmp_path / "copy")
    path = tmp_path / "copy" / "detector.json"
    description = json.loads(path.read_text())
    edit(description)  # type: ignore[operator]
    path.write_text(json.dumps(description))
    return tmp_path / "copy"


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda d: d.update(format="vaelab.imputer"), ["is not a saved VAEDetector", "VAEDetector.save"]),
        (lambda d: d.update(format_version=99), ["newer vaelab", "format 99", "upgrade vaelab"]),
        (lambda d: d.update(format_version="1"), ["format_version is '1', not an integer"]),
        (lambda d: d.pop("offset"), ["is damaged", "no 'offset' entry", "save the detector again"]),
        (lambda d: d["params"].update(epochs=0), ["cannot load the saved detector", "epochs must be a positive"]),
        (lambda d: d["params"].update(colour=1), ["no parameter 'colour'"]),
        (lambda d: d.update(models=["../elsewhere"]), ["is damaged", "not a model folder"]),
        (lambda d: d.update(seeds=[1]), ["is damaged", "2 models but 1 seeds"]),
        (lambda d: d["preprocessor"]["state"]["numeric"].pop(), ["is damaged", "model 0 takes rows of shape (3,)"]),
    ],
)
def test_a_damaged_or_foreign_saved_detector_is_one_line(
    saved: Path, tmp_path: Path, edit: object, needles: list[str]
) -> None:
    with pytest.raises(UserError) as error:
        VAEDetector.load(edited(saved, tmp_path, edit))
    message = str(error.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_a_folder_without_a_saved_detector_is_one_line(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        VAEDetector.load(tmp_path / "absent")
    with pytest.raises(UserError, match=r"holds no saved detector.*detector\.json is missing.*--save"):
        VAEDetector.load(tmp_path)
    (tmp_path / "detector.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot read a saved detector"):
        VAEDetector.load(tmp_path)
    broken = edited(saved, tmp_path, lambda d: None)
    (broken / "model-0" / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(UserError, match=r"cannot load the saved detector: .*model\.safetensors"):
        VAEDetector.load(broken)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_detector_saved_on_a_gpu_loads_onto_the_cpu_when_asked(saved: Path, tmp_path: Path) -> None:
    gpu = edited(saved, tmp_path, lambda d: d["params"].update(device="cuda"))
    with pytest.raises(UserError, match="no CUDA GPU; load it with device='cpu'"):
        VAEDetector.load(gpu)
    assert VAEDetector.load(gpu, device="cpu").device == "cpu"


def test_saving_refuses_a_folder_of_other_files_and_an_unfitted_detector(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    detector = VAEDetector(random_state=0, **FAST)
    with pytest.raises(UserError, match="not fitted yet"):
        detector.save(tmp_path / "new")
    detector.fit(np.random.default_rng(0).normal(size=(30, 3)))
    with pytest.raises(UserError, match="is not empty and holds no saved detector"):
        detector.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
