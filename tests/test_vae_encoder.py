"""VAEEncoder: a plain VAE as a scikit-learn transformer (posterior means), Kingma et al. 2014's M1 and M1+M2
as pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import vaelab
from vaelab.applications.semi_supervised import VAEClassifier, VAEEncoder
from vaelab.data.semi_supervised import keep_labelled
from vaelab.errors import UserError

TINY: dict[str, Any] = {"latent_dim": 2, "hidden_dims": (16,), "epochs": 20, "lr": 1e-2, "threads": 1}


def clusters(n: int = 200, dims: int = 6, shift: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well-separated Gaussian clusters in ``dims`` dimensions (centres -3 and +3 on every axis), labels 0/1."""
    X, y = make_blobs(n, centers=[[-3.0] * dims, [3.0] * dims], random_state=seed)
    return X + shift, y


def test_transform_shape_dtype_and_determinism() -> None:
    X, _ = clusters()
    encoder = VAEEncoder(random_state=0, **TINY)
    codes = encoder.fit_transform(X)
    assert codes.shape == (200, 2) and codes.dtype == np.float64
    np.testing.assert_array_equal(encoder.transform(X), codes)  # posterior means: no sampling
    np.testing.assert_array_equal(VAEEncoder(random_state=0, **TINY).fit(X).transform(X), codes)  # seeded fit
    assert encoder.likelihood_ == "gaussian" and encoder.loc_ is not None  # real values: standardised
    assert encoder.model_.num_classes is None  # a plain VAE: no condition, no classifier


def test_codes_of_two_clusters_separate() -> None:
    X, y = clusters(400)
    codes = VAEEncoder(random_state=0, **TINY).fit_transform(X)
    train, test = slice(0, 200), slice(200, 400)
    accuracy = LogisticRegression().fit(codes[train], y[train]).score(codes[test], y[test])
    assert accuracy > 0.97  # measured 1.0


def test_m1_pipeline_on_labelled_rows() -> None:
    X, y = clusters(300)
    m1 = make_pipeline(VAEEncoder(random_state=0, **TINY), LogisticRegression())
    assert m1.fit(X[:200], y[:200]).score(X[200:], y[200:]) > 0.97  # measured 1.0


def test_fit_ignores_semi_supervised_labels() -> None:
    X, y = clusters()
    codes = VAEEncoder(random_state=1, **TINY).fit(X).transform(X)
    partly = keep_labelled(y, 10, 0)
    assert (partly == -1).sum() == 190
    np.testing.assert_array_equal(VAEEncoder(random_state=1, **TINY).fit(X, partly).transform(X), codes)
    np.testing.assert_array_equal(VAEEncoder(random_state=1, **TINY).fit(X, 1 - y).transform(X), codes)


def test_m1_plus_m2_pipeline_on_partly_labelled_rows() -> None:
    X, y = clusters(300)
    partly = keep_labelled(y, 10, 0)
    m1_m2 = make_pipeline(
        VAEEncoder(random_state=0, **TINY), StandardScaler(), VAEClassifier(alpha=1.0, random_state=0, **TINY)
    )
    m1_m2.fit(X, partly)  # the encoder learns from all 300 rows, the classifier from 10 labels among the codes
    np.testing.assert_array_equal(m1_m2[-1].classes_, [0, 1])
    assert m1_m2.predict(X).shape == (300,)
    assert m1_m2.score(X, y) > 0.95  # measured 1.0


def test_save_load_gives_identical_outputs(tmp_path: Path) -> None:
    X, _ = clusters(shift=100.0)
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    encoder = VAEEncoder(random_state=3, **TINY).fit(frame)
    encoder.save(tmp_path / "saved")
    assert {p.name for p in (tmp_path / "saved").iterdir()} == {"encoder.json", "model.json", "model.safetensors"}
    loaded = VAEEncoder.load(tmp_path / "saved")
    assert loaded.get_params() == encoder.get_params()
    np.testing.assert_array_equal(loaded.transform(frame), encoder.transform(frame))
    codes = encoder.transform(frame)
    np.testing.assert_array_equal(loaded.inverse_transform(codes), encoder.inverse_transform(codes))
    assert loaded.feature_names_in_.tolist() == frame.columns.tolist()
    with pytest.raises(UserError, match="holds no saved encoder"):
        VAEEncoder.load(tmp_path)
    with pytest.raises(UserError, match=r"holds no saved classifier \(classifier.json is missing\)"):
        VAEClassifier.load(tmp_path / "saved")
    with pytest.raises(UserError, match="VAEEncoder is not fitted yet"):
        VAEEncoder(**TINY).save(tmp_path / "unfitted")


def test_inverse_transform_in_user_units() -> None:
    X, y = clusters(shift=100.0)
    encoder = VAEEncoder(random_state=0, **TINY).fit(X)
    back = encoder.inverse_transform(encoder.transform(X))
    assert back.shape == X.shape and back.dtype == np.float64
    assert abs(back.mean() - 100.0) < 1.0  # the model saw standardised values
    assert back[y == 0].mean() < 100.0 < back[y == 1].mean()  # each cluster decodes near its centre (97 or 103)
    with pytest.raises(UserError, match="the codes have 3 columns; the encoder's latent_dim is 2"):
        encoder.inverse_transform(np.zeros((4, 3)))


def test_images_binary_values() -> None:
    X = load_digits().data[:300]
    images = (X > 8).astype(np.float64).reshape(-1, 1, 8, 8)
    encoder = VAEEncoder(random_state=0, **{**TINY, "epochs": 2}).fit(images)
    assert encoder.likelihood_ == "bernoulli" and encoder.loc_ is None
    assert encoder.transform(images[:7]).shape == (7, 2)
    means = encoder.inverse_transform(np.zeros((3, 2)))
    assert means.shape == (3, 1, 8, 8) and ((means >= 0) & (means <= 1)).all()  # Bernoulli means
    with pytest.raises(UserError, match=r"rows of shape \(1, 4, 16\); the encoder was fitted on \(1, 8, 8\)"):
        encoder.transform(images.reshape(-1, 1, 4, 16))


def test_lazy_export() -> None:
    assert vaelab.VAEEncoder is VAEEncoder


# ------------------------------------------------------------------ bad input: one clear error each
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros((20, 2, 3)), r"X must be a table \(N, D\) or images \(N, C, H, W\), not shaped \(20, 2, 3\)"),
        (np.r_[np.zeros((19, 2)), [[np.nan, 0.0]]], "Input contains NaN"),
        (np.array([["a", "b"]] * 20, dtype=object), "could not convert string to float"),
        (np.zeros((0, 2)), "0 sample"),
    ],
)
def test_bad_input_is_one_line_error(X: np.ndarray, match: str) -> None:
    with pytest.raises(UserError, match=match) as caught:
        VAEEncoder(**TINY).fit(X)
    assert isinstance(caught.value, ValueError)  # scikit-learn's type for bad input
    assert "\n" not in str(caught.value)


def test_bad_parameters_and_columns() -> None:
    X, _ = clusters()
    bad_params: list[tuple[dict[str, Any], str]] = [
        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"hidden_dims": ()}, "hidden_dims must be a tuple"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"max_minutes": 0}, "max_minutes must be a positive number or None"),
    ]
    for params, match in bad_params:
        with pytest.raises(UserError, match=match):
            VAEEncoder(**{**TINY, **params}).fit(X)
    encoder = VAEEncoder(random_state=0, **{**TINY, "epochs": 1}).fit(X)
    with pytest.raises(UserError, match="X has 5 features, but VAEEncoder is expecting 6 features"):
        encoder.transform(X[:, :5])


# ------------------------------------------------------------------ scikit-learn's checks
@parametrize_with_checks([VAEEncoder(random_state=0, **TINY)])
def test_scikit_learn_estimator_checks(estimator: VAEEncoder, check: object) -> None:
    check(estimator)  # type: ignore[operator]
