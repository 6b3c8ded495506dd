"""Disentanglement metrics: disentanglement_lib's sanity checks, the DCI formulas, and bad inputs.

The sanity checks follow disentanglement_lib's tests (``evaluation/metrics/*_test.py``): ten factors
with ten values each whose observations *are* the factors, and representations that copy them
(score ≥ 0.9), ignore them (≤ 0.2), or copy each twice (MIG ≤ 0.1, SAP ≤ 0.2, DCI completeness
≈ 1 - log 2 / log D). Everything is seeded, so each check is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from vaelab.data.shapes import ShapesOracle
from vaelab.evaluation.disentanglement import (
    FactorOracle,
    beta_vae_score,
    dci,
    factor_vae_score,
    mig,
    sap,
)
from vaelab.evaluation.disentanglement.dci import (
    completeness_from_importance,
    disentanglement_from_importance,
)

NUM_FACTORS, NUM_VALUES = 10, 10


@dataclass(frozen=True)
class IdentityOracle:
    """disentanglement_lib's ``IdentityObservationsData``: the observations are the factors."""

    num_factors: int = NUM_FACTORS
    num_values: int = NUM_VALUES

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return (self.num_values,) * self.num_factors

    def sample_factors(self, num: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(self.num_values, size=(num, self.num_factors))

    def observations(self, factors: np.ndarray) -> np.ndarray:
        return factors


def _identity_code(num_factors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random invertible per-dimension map: signed scales, shifts and a permutation of dimensions."""
    rng = np.random.default_rng(123)
    scale = rng.uniform(0.2, 5.0, num_factors) * rng.choice([-1.0, 1.0], num_factors)
    return scale, rng.normal(size=num_factors), rng.permutation(num_factors)


def identity(factors: np.ndarray) -> np.ndarray:
    scale, shift, order = _identity_code(factors.shape[1])
    return (factors * scale + shift)[:, order]


def constant(factors: np.ndarray) -> np.ndarray:
    return np.zeros(factors.shape, dtype=np.float64)


def duplicated(factors: np.ndarray) -> np.ndarray:
    return np.hstack([identity(factors), identity(factors)])


def _noise_encoder(seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """Codes that ignore the factors: fresh standard-normal noise on every call."""
    rng = np.random.default_rng(seed)

    def noise(factors: np.ndarray) -> np.ndarray:
        return rng.normal(size=factors.shape)

    return noise


def _table(num: int, seed: int = 0, num_factors: int = NUM_FACTORS) -> np.ndarray:
    return IdentityOracle(num_factors=num_factors).sample_factors(num, np.random.default_rng(seed))


def _permuted_rows(factors: np.ndarray) -> np.ndarray:
    """disentanglement_lib's bad DCI code: each example's factor values in a random order."""
    rng = np.random.default_rng(7)
    return np.array([rng.permutation(row) for row in factors], dtype=np.float64)


# --- MIG ---------------------------------------------------------------------------------------------


def test_mig_sanity() -> None:
    factors = _table(3000)
    assert mig(identity(factors), factors)["mig"] >= 0.9
    assert mig(constant(factors), factors)["mig"] <= 0.2
    assert mig(np.random.default_rng(1).normal(size=factors.shape), factors)["mig"] <= 0.2
    assert mig(duplicated(factors), factors)["mig"] <= 0.1


def test_mig_per_factor_and_single_code() -> None:
    factors = _table(2000, num_factors=3)
    scores = mig(np.column_stack([identity(factors)[:, :2], constant(factors)[:, :1]]), factors)
    assert len(scores["mig_per_factor"]) == 3
    assert scores["mig"] == pytest.approx(np.mean(scores["mig_per_factor"]))
    only = mig(factors[:, :1].astype(float), factors[:, :1])  # one code: the runner-up counts as 0
    assert only["mig"] == pytest.approx(1.0)


# --- SAP ---------------------------------------------------------------------------------------------


def test_sap_sanity_continuous() -> None:
    factors = _table(6000)
    assert sap(identity(factors), factors, continuous_factors=True)["sap"] >= 0.9
    assert sap(constant(factors), factors, continuous_factors=True)["sap"] <= 0.2
    assert sap(duplicated(factors), factors, continuous_factors=True)["sap"] <= 0.2


def test_sap_sanity_discrete() -> None:
    # A linear SVM on one feature separates two classes, so a perfect code scores about 1 - 1/2
    # (the other dimensions sit at balanced chance, 1/2); many-valued factors score far lower.
    binary = IdentityOracle(num_values=2).sample_factors(3000, np.random.default_rng(0))
    assert 0.4 <= sap(identity(binary), binary)["sap"] <= 0.5
    assert sap(np.random.default_rng(1).normal(size=binary.shape), binary)["sap"] <= 0.05
    assert sap(constant(binary), binary)["sap"] <= 0.05
    assert sap(duplicated(binary), binary)["sap"] <= 0.05


# --- DCI ---------------------------------------------------------------------------------------------

DCI_FACTORS = 5  # fewer factors than the other checks: one boosted classifier per factor is slow


def test_dci_sanity() -> None:
    factors = _table(1500, num_factors=DCI_FACTORS)
    good = dci(identity(factors), factors, n_estimators=10)
    assert min(good["disentanglement"], good["completeness"], good["informativeness"]) >= 0.9

    shuffled = dci(_permuted_rows(factors), factors, n_estimators=10)
    assert max(shuffled["disentanglement"], shuffled["completeness"]) <= 0.2

    ignored = dci(constant(factors), factors, n_estimators=10)
    assert max(ignored["disentanglement"], ignored["completeness"]) <= 0.2
    assert ignored["informativeness"] <= 0.2  # chance is 1/10

    twice = dci(duplicated(factors), factors, n_estimators=10)
    assert twice["disentanglement"] >= 0.9
    # each factor spread evenly over 2 of the D = 2K codes: completeness 1 - log 2 / log 2K
    assert twice["completeness"] == pytest.approx(1 - np.log(2) / np.log(2 * DCI_FACTORS), abs=0.1)


ONE_MINUS_LOG2_LOG10 = 1 - np.log(2) / np.log(10)


@pytest.mark.parametrize(
    ("importance", "disentanglement", "completeness"),
    [
        (np.diag(5.0 * np.ones(5)), 1.0, 1.0),
        (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 1.0, 1.0),  # an unused code
        (np.zeros((10, 10)), 0.0, 0.0),
        (np.vstack([np.diag(5.0 * np.ones(5))] * 2), 1.0, ONE_MINUS_LOG2_LOG10),  # redundant codes
        (np.diag(5.0 * np.ones(5))[:2], 1.0, 1.0),  # missed factors
        (np.hstack([np.diag(5.0 * np.ones(5))] * 2), ONE_MINUS_LOG2_LOG10, 1.0),  # one code, two factors
    ],
)
def test_dci_formulas(importance: np.ndarray, disentanglement: float, completeness: float) -> None:
    """The importance-matrix cases of disentanglement_lib's ``dci_test.py``."""
    assert disentanglement_from_importance(importance) == pytest.approx(disentanglement, abs=1e-7)
    assert completeness_from_importance(importance) == pytest.approx(completeness, abs=1e-7)


# --- BetaVAE and FactorVAE scores --------------------------------------------------------------------

ORACLE = IdentityOracle()


def test_beta_vae_score_sanity() -> None:
    kwargs = {"batch_size": 5, "num_train": 2000, "num_eval": 2000, "seed": 0}
    good = beta_vae_score(ORACLE, identity, **kwargs)
    assert min(good["beta_vae_score"], good["train_accuracy"]) >= 0.9
    for bad_encoder in (constant, _noise_encoder(1)):
        assert beta_vae_score(ORACLE, bad_encoder, **kwargs)["beta_vae_score"] <= 0.2


def test_factor_vae_score_sanity() -> None:
    kwargs = {"batch_size": 5, "num_train": 3000, "num_eval": 2000, "num_variance_estimate": 2500}
    good = factor_vae_score(ORACLE, identity, **kwargs)
    assert min(good["factor_vae_score"], good["train_accuracy"]) >= 0.9
    assert good["num_active_dims"] == NUM_FACTORS

    collapsed = factor_vae_score(ORACLE, constant, **kwargs)
    assert collapsed == {"factor_vae_score": 0.0, "train_accuracy": 0.0, "num_active_dims": 0}
    assert factor_vae_score(ORACLE, _noise_encoder(2), **kwargs)["factor_vae_score"] <= 0.2


def test_factor_vae_score_ignores_code_scale_and_prunes_collapsed_dims() -> None:
    kwargs = {"batch_size": 8, "num_train": 500, "num_eval": 500, "num_variance_estimate": 1000}
    plain = factor_vae_score(ORACLE, identity, **kwargs)

    def rescaled_with_dead_dims(factors: np.ndarray) -> np.ndarray:
        codes = identity(factors) * np.logspace(-1, 3, factors.shape[1])
        return np.hstack([codes, np.full((factors.shape[0], 3), 0.5)])

    other = factor_vae_score(ORACLE, rescaled_with_dead_dims, **kwargs)
    assert other["num_active_dims"] == NUM_FACTORS
    assert other["factor_vae_score"] == pytest.approx(plain["factor_vae_score"])


def test_interventional_scores_run_on_the_shapes_generator() -> None:
    """Image moments track position and size, so both scores beat chance (1/5) on shapes."""

    def moments(images: np.ndarray) -> np.ndarray:  # (B, 1, R, R) -> centre column, centre row, area
        masks = images[:, 0].astype(np.float64)
        grid = np.arange(masks.shape[-1])
        mass = masks.sum(axis=(1, 2))
        return np.column_stack([masks.sum(axis=1) @ grid / mass, masks.sum(axis=2) @ grid / mass, mass / 100])

    oracle: FactorOracle = ShapesOracle(resolution=32)
    kwargs = {"batch_size": 16, "num_train": 300, "num_eval": 300, "chunk_size": 1000}
    assert beta_vae_score(oracle, moments, **kwargs)["beta_vae_score"] >= 0.5
    assert factor_vae_score(oracle, moments, num_variance_estimate=500, **kwargs)["factor_vae_score"] >= 0.4


def test_encoder_with_wrong_output_shape_is_reported() -> None:
    with pytest.raises(ValueError, match=r"encode must return latent means of shape \(B, D\)"):
        beta_vae_score(ORACLE, lambda x: x[:, 0], num_train=2, num_eval=2)


# --- bad inputs --------------------------------------------------------------------------------------

CODES = np.zeros((20, 3))
FACTORS = np.tile([[0, 1], [1, 0]], (10, 1))  # (20, 2), two values per factor


@pytest.mark.parametrize("metric", [mig, dci, sap])
@pytest.mark.parametrize(
    ("codes", "factors", "message"),
    [
        (CODES[:19], FACTORS, "one row per example"),
        (CODES[:, 0], FACTORS, "codes must be a 2-D array"),
        (CODES, FACTORS[:, 0], "factors must be a 2-D array"),
        (np.full((20, 3), np.nan), FACTORS, "finite"),
        (CODES, FACTORS + 0.5, "integer class indices"),
        (CODES, np.zeros((20, 2), dtype=int), r"factor column\(s\) \[0, 1\] take a single value"),
    ],
)
def test_bad_inputs_raise_value_error(
    metric: Callable[[np.ndarray, np.ndarray], object], codes: np.ndarray, factors: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        metric(codes, factors)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mig(CODES, FACTORS, num_bins=0), "num_bins must be at least 1"),
        (lambda: dci(CODES, FACTORS, test_fraction=1.0), "test_fraction"),
        (lambda: sap(CODES, FACTORS, test_fraction=0.0), "test_fraction"),
        (lambda: beta_vae_score(ORACLE, identity, num_train=0), "num_train must be at least 1"),
        (lambda: factor_vae_score(ORACLE, identity, batch_size=1), "batch_size"),
    ],
)
def test_bad_settings_raise_value_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
