"""``VAEImputer`` and ``vaelab impute``: scikit-learn conventions, DataFrames in and out, arrays of images,
calibrated multiple imputations, save and load without pickle, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from helpers import vaelab
from vaelab import VAEImputer
from vaelab.errors import UserError

torch.set_num_threads(1)
FAST = {"epochs": 30, "hidden_dims": (32, 32), "num_samples": 100, "random_state": 0}
TRAINED = {**FAST, "epochs": 200}  # about 1,000 steps: enough to learn these small tables


def linear_gaussian_table(rows: int, seed: int = 0) -> np.ndarray:
    """Rows of x = W z + noise (z: 2-D standard normal, noise sd 0.5) in 5 columns: every conditional
    distribution of some columns given the others is Gaussian."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(5, 2))
    return rng.normal(size=(rows, 2)) @ w.T + 0.5 * rng.normal(size=(rows, 5))


def mcar(x: np.ndarray, rate: float, seed: int = 1) -> np.ndarray:
    hide = np.random.default_rng(seed).random(x.shape) < rate
    hide[hide.all(1), 0] = False
    return np.where(hide, np.nan, x)


def test_imputes_below_the_mean_and_leaves_observed_cells_alone() -> None:
    x = linear_gaussian_table(600)
    holes = mcar(x, 0.3)
    filled = VAEImputer(**TRAINED).fit_transform(holes)
    missing = np.isnan(holes)
    assert filled.shape == x.shape and not np.isnan(filled).any()
    assert np.array_equal(filled[~missing], holes[~missing])
    rmse = np.sqrt(np.mean((filled[missing] - x[missing]) ** 2))
    column_means = np.nanmean(holes, axis=0)
    mean_rmse = np.sqrt(np.mean((np.broadcast_to(column_means, x.shape)[missing] - x[missing]) ** 2))
    assert rmse < 0.8 * mean_rmse


def test_multiple_imputations_are_calibrated_on_a_linear_gaussian_table() -> None:
    """90 % intervals from 100 imputations cover the hidden value 85-95 % of the time (over >= 2,000 cells)."""
    x = linear_gaussian_table(3000)
    holes = mcar(x, 0.3)
    imputer = VAEImputer(
        epochs=60, hidden_dims=(64, 64), latent_dim=2, n_imputations=100, num_samples=500, random_state=0
    )
    draws = np.stack(imputer.fit(holes).multiple_imputations(holes))  # (100, N, 5)
    missing = np.isnan(holes)
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    covered = (low[missing] <= x[missing]) & (x[missing] <= high[missing])
    assert missing.sum() >= 2000
    assert 0.85 <= covered.mean() <= 0.95, covered.mean()


def test_dataframes_in_and_out_with_categories_inside_a_pipeline() -> None:
    rng = np.random.default_rng(0)
    rows = 300
    colour = rng.choice(["red", "green", "blue"], rows)
    size = np.where(colour == "red", 3.0, 0.0) + rng.normal(size=rows)
    frame = pd.DataFrame({"size": size, "colour": colour, "count": rng.integers(0, 5, rows)}, index=np.arange(rows) + 7)
    holes = frame.copy()
    holes.loc[holes.index[::4], "colour"] = None
    holes.loc[holes.index[1::5], "size"] = np.nan
    filled = VAEImputer(**TRAINED).fit_transform(holes)
    assert isinstance(filled, pd.DataFrame)
    assert list(filled.columns) == list(frame.columns) and filled.index.equals(frame.index)
    assert not filled.isna().any().any()
    assert set(filled["colour"]) <= {"red", "green", "blue"}
    kept = holes["colour"].notna()
    assert filled.loc[kept, "colour"].equals(holes.loc[kept, "colour"])
    # The colour follows from the size: imputed colours beat the most frequent one.
    hidden = ~kept
    accuracy = (filled.loc[hidden, "colour"] == frame.loc[hidden, "colour"]).mean()
    assert accuracy > (frame.loc[hidden, "colour"] == frame["colour"].mode()[0]).mean()

    x = linear_gaussian_table(200)
    labels = (x[:, 0] > 0).astype(int)
    pipeline = make_pipeline(VAEImputer(**FAST), LogisticRegression())
    assert pipeline.fit(mcar(x, 0.2), labels).score(mcar(x, 0.2, seed=2), labels) > 0.7


def test_gibbs_and_importance_agree_and_save_load_round_trips(tmp_path: Path) -> None:
    x = linear_gaussian_table(400)
    holes = mcar(x, 0.3)
    imputer = VAEImputer(**FAST, gibbs_steps=60, n_imputations=3).fit(holes)
    by_importance = imputer.transform(holes)
    by_gibbs = imputer.set_params(method="gibbs").transform(holes)
    missing = np.isnan(holes)
    assert np.sqrt(np.mean((by_gibbs[missing] - by_importance[missing]) ** 2)) < 0.5
    assert len(imputer.multiple_imputations(holes)) == 3
    imputer.set_params(method="importance").save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    loaded = VAEImputer.load(tmp_path)
    assert loaded.get_params() == imputer.get_params() or np.isnan(loaded.missing_values)
    assert np.array_equal(loaded.transform(holes), by_importance)


def test_image_arrays_keep_their_shape_and_sentinel_missing_values() -> None:
    rng = np.random.default_rng(0)
    images = (rng.random((200, 6, 6)) < np.linspace(0.1, 0.9, 36).reshape(6, 6)).astype(np.float64)
    hidden = np.zeros(images.shape, dtype=bool)
    for i, quadrant in enumerate(rng.integers(0, 4, len(images))):
        top, left = divmod(int(quadrant), 2)
        hidden[i, 3 * top : 3 * top + 3, 3 * left : 3 * left + 3] = True  # one missing quadrant per image
    holes = np.where(hidden, -1.0, images)  # marked by a sentinel
    filled = VAEImputer(**{**FAST, "missing_values": -1.0}).fit_transform(holes)
    assert filled.shape == images.shape
    assert np.array_equal(filled[~hidden], images[~hidden])
    assert ((filled[hidden] >= 0) & (filled[hidden] <= 1)).all()
    holes[:, 0, 0] = -1.0
    with pytest.raises(UserError, match=r"entry \(0, 0\) is missing in every row"):
        VAEImputer(**{**FAST, "missing_values": -1.0}).fit(holes)


def test_bad_input_is_one_clear_error() -> None:
    x = linear_gaussian_table(50)
    empty = x.copy()
    empty[:, 2] = np.nan
    with pytest.raises(UserError, match="missing in every row"):
        VAEImputer(**FAST).fit(empty)
    with pytest.raises(UserError, match="not fitted"):
        VAEImputer().transform(x)
    with pytest.raises(UserError, match="unknown method"):
        VAEImputer(method="magic").fit(x)  # type: ignore[arg-type]
    imputer = VAEImputer(**FAST).fit(mcar(x, 0.2))
    with pytest.raises(UserError, match="shape"):
        imputer.transform(x[:, :4])


def write_table(path: Path) -> Path:
    x = linear_gaussian_table(120)
    frame = pd.DataFrame(mcar(x, 0.2), columns=list("abcde"))
    frame["group"] = np.where(x[:, 0] > 0, "up", "down")
    frame.loc[::7, "group"] = None
    frame.to_csv(path, index=False)
    return path


def test_impute_command_fits_saves_and_reuses(tmp_path: Path) -> None:
    data = write_table(tmp_path / "table.csv")
    out, saved = tmp_path / "filled.csv", tmp_path / "imputer"
    code, stdout, err = vaelab(
        ["impute", "--data", str(data), "--out", str(out), "--epochs", "5", "--save", str(saved), "--json"]
    )
    assert code == 0, err
    summary = json.loads(stdout)
    original = pd.read_csv(data)
    filled = pd.read_csv(out)
    assert summary["missing"] == int(original.isna().sum().sum()) > 0
    assert not filled.isna().any().any() and list(filled.columns) == list(original.columns)
    many = tmp_path / "many.csv"
    code, _, err = vaelab(["impute", str(saved), "--data", str(data), "--out", str(many), "--imputations", "3"])
    assert code == 0, err
    long = pd.read_csv(many)
    assert list(long["imputation"].unique()) == [1, 2, 3] and len(long) == 3 * len(original)


def test_impute_command_keeps_the_weights_that_impute_held_out_cells_best(tmp_path: Path) -> None:
    data = write_table(tmp_path / "table.csv")
    out = tmp_path / "filled.csv"
    arguments = ["impute", "--data", str(data), "--out", str(out), "--epochs", "20", "--held-out-cells", "0.1"]
    code, stdout, err = vaelab([*arguments, "--json"])
    assert code == 0, err
    assert json.loads(stdout)["best_step"] > 0 and not pd.read_csv(out).isna().any().any()


def test_impute_command_on_arrays_with_a_mask(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = (rng.random((80, 4, 4)) < 0.5).astype(np.float32)
    mask = np.zeros(images.shape, dtype=bool)
    mask[::2, :2, :2] = True  # the top-left quadrant of every other image
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "mask.npy", mask)
    out = tmp_path / "filled.npy"
    args = ["impute", "--data", str(tmp_path / "images.npy"), "--mask", str(tmp_path / "mask.npy"), "--epochs", "3"]
    code, _, err = vaelab([*args, "--out", str(out)])
    assert code == 0, err
    filled = np.load(out)
    assert filled.shape == images.shape and np.array_equal(filled[~mask], images[~mask])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("wrong-mask", "--mask has shape"),
        ("no-file", "no such file"),
        ("wrong-out", "--out must be a .npy"),
        ("empty-image", "missing in every row"),
    ],
)
def test_impute_command_bad_input(tmp_path: Path, change: str, message: str) -> None:
    images = np.random.default_rng(0).random((20, 3, 3))
    if change == "empty-image":
        images[:, 1, 1] = np.nan
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "mask.npy", np.zeros((20, 3, 4), dtype=bool))
    out = tmp_path / ("filled.csv" if change == "wrong-out" else "filled.npy")
    args = ["impute", "--data", str(tmp_path / ("gone.npy" if change == "no-file" else "images.npy"))]
    args += ["--out", str(out), "--epochs", "2"]
    if change == "wrong-mask":
        args += ["--mask", str(tmp_path / "mask.npy")]
    code, _, err = vaelab(args)
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(("rows", "steps"), [(80, 4000), (214, 4000), (1831, 7500), (6435, 8000)])
def test_the_default_length_is_500_epochs_within_4000_to_8000_steps(rows: int, steps: int) -> None:
    from vaelab.applications.imputation.imputer import default_steps

    assert default_steps(rows, 128) == steps
    epochs = VAEImputer()._epochs(rows)
    per_epoch = -(-rows // 128)
    assert (epochs - 1) * per_epoch < steps <= epochs * per_epoch  # the fewest epochs reaching those steps
