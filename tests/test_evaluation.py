"""Evaluation figures: the mathematics of each estimator, checked on cases with known answers, and bad input."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg, stats

from helpers import LinearGaussian, tiny_vae
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.evaluation.bits import bits_per_dim
from vaelab.evaluation.downstream import latent_accuracy
from vaelab.evaluation.latent import (
    active_units,
    aggregate_posterior_terms,
    collapse_warning,
    latent_diagnostics,
)
from vaelab.evaluation.likelihood import evaluate_likelihood, likelihood_per_example
from vaelab.evaluation.reference_classifier import ClassifierSettings, reference_classifier
from vaelab.evaluation.sample_quality import (
    frechet_distance,
    frechet_distance_from_moments,
    knn_radii,
    precision_recall,
)
from vaelab.evaluation.suite import EvalSettings, default_metrics, evaluate, resolve_metrics

# ---------------------------------------------------------------- bits per dimension


def test_bits_per_dim_of_a_probability_mass_is_nats_over_d_ln2() -> None:
    nll = np.array([80.0, 100.0])
    bits = bits_per_dim(nll, data_dim=784, levels=2, likelihood="bernoulli")
    assert bits is not None
    np.testing.assert_allclose(bits, nll / (784 * math.log(2)))


def test_bits_per_dim_of_a_density_uses_the_change_of_variables_to_8_bit_integers() -> None:
    # A density over x = k / 255 in [0, 1]; the probability of the integer k is the mass of its bin of
    # width 1/255, which the change of variables approximates by p_x(x) / 255 per dimension.
    levels, d = 256, 3
    density = stats.norm(0.5, 0.2)
    k = np.array([[40, 128, 200], [0 + 90, 17, 255 - 30]], dtype=np.float64)
    x = k / (levels - 1)
    nll = -density.logpdf(x).sum(1)
    half = 0.5 / (levels - 1)
    exact_mass_bits = -np.log2(density.cdf(x + half) - density.cdf(x - half)).sum(1) / d
    bits = bits_per_dim(nll, data_dim=d, levels=levels, likelihood="gaussian")
    assert bits is not None
    np.testing.assert_allclose(bits, exact_mass_bits, atol=1e-4)


def test_bits_per_dim_is_undefined_for_continuous_data() -> None:
    assert bits_per_dim(np.array([1.0]), data_dim=5, levels=None, likelihood="gaussian") is None
    with pytest.raises(ValueError, match="levels"):
        bits_per_dim(np.array([1.0]), data_dim=5, levels=1, likelihood="gaussian")


# ---------------------------------------------------------------------- likelihood


def _continuous(x: torch.Tensor) -> ArrayDataset:
    return ArrayDataset(x.float().numpy(), None, None, "linear-gaussian")


def test_importance_sampled_nll_is_within_005_nats_of_the_exact_log_marginal() -> None:
    torch.manual_seed(0)
    lg = LinearGaussian()
    x = lg.sample(200, seed=3)
    model = lg.vae(posterior_shift=0.5).float()  # an imperfect proposal: the ELBO is ~1 nat loose
    result = evaluate_likelihood(model, _continuous(x), num_samples=1000)
    truth = -float(lg.log_marginal(x).mean())
    assert abs(result["nll"] - truth) < 0.05
    assert result["nll"] < -result["elbo"] - 0.5
    assert "bits_per_dim" not in result  # continuous data


def test_nll_falls_with_k_and_k1_matches_the_elbo() -> None:
    torch.manual_seed(0)
    lg = LinearGaussian()
    data = _continuous(lg.sample(500, seed=4))
    model = lg.vae(posterior_shift=0.8).float()
    per_k = {k: likelihood_per_example(model, data, num_samples=k) for k in (1, 10, 100)}
    nll = {k: v["nll"].mean() for k, v in per_k.items()}
    assert nll[1] > nll[10] > nll[100]
    # With K = 1 the estimate is a one-sample ELBO: same expectation, independent draws.
    diff = per_k[1]["nll"] + per_k[1]["elbo"]
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / math.sqrt(len(diff))


def test_likelihood_reports_per_example_values_means_and_standard_errors() -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    x = (np.random.default_rng(0).random((30, 1, 4, 4)) < 0.5).astype(np.uint8)
    data = ArrayDataset(x, None, 2, "binary")
    torch.manual_seed(1)
    values = likelihood_per_example(model, data, num_samples=20)
    torch.manual_seed(1)
    summary = evaluate_likelihood(model, data, num_samples=20)
    assert set(values) == {"elbo", "reconstruction", "kl", "nll", "bits_per_dim"}
    assert all(v.shape == (30,) for v in values.values())
    np.testing.assert_allclose(values["elbo"], values["reconstruction"] - values["kl"], atol=1e-5)
    np.testing.assert_allclose(values["bits_per_dim"], values["nll"] / (16 * math.log(2)))
    assert summary["nll"] == pytest.approx(values["nll"].mean())
    assert summary["nll_stderr"] == pytest.approx(values["nll"].std(ddof=1) / math.sqrt(30))
    assert summary["num_examples"] == 30 and summary["num_samples"] == 20


# -------------------------------------------------------------------------- latent


def _set_posterior(model: torch.nn.Module, loc_rows: list[int], loc_scale: float = 1.0) -> None:
    """Zero the weights of the listed loc rows of the posterior head, so those means ignore x."""
    with torch.no_grad():
        weight = model.posterior.linear.weight  # type: ignore[union-attr]
        weight.mul_(loc_scale)
        weight[loc_rows] = 0.0


def _binary_data(n: int = 400, seed: int = 0) -> ArrayDataset:
    x = (np.random.default_rng(seed).random((n, 1, 4, 4)) < 0.5).astype(np.uint8)
    return ArrayDataset(x, None, 2, "binary")


def test_kl_per_dim_sums_to_the_kl_term() -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    data = _binary_data(100)
    latent = latent_diagnostics(model, data)
    likelihood = evaluate_likelihood(model, data, num_samples=1)
    assert len(latent["kl_per_dim"]) == model.latent_dim
    assert all(v >= 0 for v in latent["kl_per_dim"])
    assert sum(latent["kl_per_dim"]) == pytest.approx(likelihood["kl"], rel=1e-5)  # closed form both times


def test_active_units_count_dimensions_whose_mean_varies_with_the_input() -> None:
    rng = np.random.default_rng(0)
    means = rng.normal(size=(5000, 4)) * np.sqrt([1.0, 0.05, 0.002, 0.0])
    count, variance = active_units(means)
    assert count == 2
    np.testing.assert_allclose(variance, [1.0, 0.05, 0.002, 0.0], rtol=0.1, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        active_units(means[:1])


def test_inactive_dimensions_are_counted_and_collapse_is_reported_in_plain_words() -> None:
    torch.manual_seed(0)
    model = tiny_vae()  # latent_dim 3
    _set_posterior(model, loc_rows=[2], loc_scale=20.0)
    partial = latent_diagnostics(model, _binary_data())
    assert partial["active_units"] == 2 and not partial["posterior_collapse"] and not partial["warnings"]
    _set_posterior(model, loc_rows=[0, 1, 2])
    collapsed = latent_diagnostics(model, _binary_data())
    assert collapsed["active_units"] == 0 and collapsed["posterior_collapse"]
    (warning,) = collapsed["warnings"]
    assert "posterior collapse" in warning and "0 of 3" in warning and "--beta" in warning and "\n" not in warning


def test_collapse_warning_threshold() -> None:
    assert collapse_warning(4, 20) is not None  # fewer than a quarter active
    assert collapse_warning(5, 20) is None
    assert collapse_warning(0, 2) is not None and collapse_warning(1, 2) is None


def test_mutual_information_of_the_linear_gaussian_model_matches_its_closed_form() -> None:
    # With the exact posterior the aggregate posterior is the prior, so I(x; z) = E_x KL(q(z|x) || p(z))
    # = 0.5 Σ_k log(1 + |w_k|² / σ²) for orthogonal columns w_k of W. Over 20 data seeds at N = 2000 the
    # estimate's standard deviation is 0.03 nats (mean bias < 0.003), so 0.12 is 4 standard deviations.
    lg = LinearGaussian()
    truth = 0.5 * float(torch.log1p((lg.W**2).sum(0) / lg.sigma**2).sum())
    torch.manual_seed(0)
    result = latent_diagnostics(lg.vae().float(), _continuous(lg.sample(2000, seed=5)))
    assert result["mutual_information"] == pytest.approx(truth, abs=0.12)
    assert result["aggregate_kl"] == pytest.approx(0.0, abs=0.12)
    assert result["active_units"] == 2 and result["kl_per_dim"] is not None


def test_mutual_information_is_zero_when_every_posterior_is_the_same_and_log_n_when_all_are_apart() -> None:
    torch.manual_seed(0)
    p_z = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(2), torch.ones(2)), 1)
    n = 300
    same = torch.distributions.Independent(
        torch.distributions.Normal(torch.full((n, 2), 0.3), torch.full((n, 2), 0.5)), 1
    )
    mi, aggregate_kl = aggregate_posterior_terms([same], p_z)
    assert abs(mi) < 1e-5
    assert aggregate_kl == pytest.approx(float(torch.distributions.kl_divergence(same, p_z)[0]), abs=0.15)
    apart = torch.distributions.Independent(
        torch.distributions.Normal(torch.arange(n * 2.0).reshape(n, 2) * 10, torch.full((n, 2), 0.1)), 1
    )
    chunks = [
        torch.distributions.Independent(torch.distributions.Normal(apart.mean[s : s + 64], 0.1), 1)
        for s in range(0, n, 64)
    ]
    mi, _ = aggregate_posterior_terms(chunks, p_z)
    assert mi == pytest.approx(math.log(n), abs=1e-5)


def test_flow_posteriors_get_every_figure_but_the_mutual_information() -> None:
    torch.manual_seed(0)
    result = latent_diagnostics(tiny_vae(preset="planar"), _binary_data(50))
    assert result["mutual_information"] is None and result["aggregate_kl"] is None
    assert "own samples" in result["mutual_information_unavailable"]
    assert result["kl_per_dim"] is None and 0 <= result["active_units"] <= 3


def test_latent_diagnostics_reject_a_single_example() -> None:
    with pytest.raises(UserError, match="at least 2"):
        latent_diagnostics(tiny_vae(), _binary_data(1))


# ------------------------------------------------------------------ sample quality


def test_frechet_distance_from_moments_matches_the_closed_forms() -> None:
    # Diagonal (commuting) covariances: d² = |μ1 - μ2|² + Σ (σ1 - σ2)².
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2
    assert frechet_distance_from_moments(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected)
    # General covariances against scipy's matrix square root.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    cov1, cov2 = a @ a.T, b @ b.T + np.eye(5)
    reference = np.trace(cov1 + cov2 - 2 * linalg.sqrtm(cov1 @ cov2).real) + np.sum((mu1[:1] - mu2[:1]) ** 2)
    got = frechet_distance_from_moments(np.r_[mu1[:1], np.zeros(4)], cov1, np.r_[mu2[:1], np.zeros(4)], cov2)
    assert got == pytest.approx(reference, rel=1e-8)


def test_frechet_distance_of_shifted_features_is_the_squared_shift() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(500, 8))
    shift = np.linspace(-1, 1, 8)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(real, real + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(real[:5], real[5:10] * 3) > 0  # singular covariances stay finite
    with pytest.raises(ValueError, match="widths"):
        frechet_distance(real, real[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(real, np.full_like(real, np.nan))


def test_knn_radius_is_the_distance_to_the_kth_other_point() -> None:
    points = np.arange(10.0)[:, None]  # 0, 1, ..., 9 on a line
    np.testing.assert_allclose(knn_radii(points, k=1), np.ones(10))
    np.testing.assert_allclose(knn_radii(points, k=2), [2, 1, 1, 1, 1, 1, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="k must be"):
        knn_radii(points, k=10)


def test_precision_recall_see_quality_and_coverage_separately() -> None:
    rng = np.random.default_rng(0)
    cluster_a, cluster_b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4)) + 20
    real = np.concatenate([cluster_a, cluster_b])
    same = precision_recall(real, real)
    assert same == {"precision": 1.0, "recall": 1.0}
    far = precision_recall(real, real + 1000)
    assert far == {"precision": 0.0, "recall": 0.0}
    # Mode dropping: samples from one cluster only are realistic (high precision) but cover half (recall).
    one_mode = precision_recall(real, rng.normal(size=(1000, 4)))
    assert one_mode["precision"] > 0.9 and 0.3 < one_mode["recall"] < 0.55


# ------------------------------------------------------------------ classifier, downstream


def test_latent_accuracy_of_a_linear_probe() -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(2000, 3))
    labels = (codes[:, 1] > 0).astype(np.int64)
    assert latent_accuracy(codes[:1000], labels[:1000], codes[1000:], labels[1000:]) > 0.97
    noise = rng.integers(0, 2, size=2000)
    # Chance is 0.5; 1000 test labels give a standard deviation of 0.016, so 0.43..0.57 is > 4 sd.
    assert 0.43 < latent_accuracy(codes[:1000], noise[:1000], codes[1000:], noise[1000:]) < 0.57
    with pytest.raises(ValueError, match="single class"):
        latent_accuracy(codes[:10], np.zeros(10, dtype=np.int64), codes[10:20], labels[10:20])
    with pytest.raises(ValueError, match="labels"):
        latent_accuracy(codes[:10], labels[:9], codes[10:20], labels[10:20])


FAST_CLASSIFIER = ClassifierSettings(steps=300)


def test_reference_classifier_learns_the_classes_and_is_cached(tmp_path: Path) -> None:
    train = load_dataset("digits", "train")
    first = reference_classifier(train, tmp_path, FAST_CLASSIFIER)
    assert first.info["labels"] == "classes" and first.info["holdout_accuracy"] > 0.85
    (cached,) = tmp_path.glob("digits-*.safetensors")
    second = reference_classifier(train, tmp_path, FAST_CLASSIFIER)
    x = torch.from_numpy(train.x[:50]).float() / 16
    np.testing.assert_array_equal(first.network.features(x), second.network.features(x))
    assert first.network.features(x).shape == (50, 128)
    cached.write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="delete it"):
        reference_classifier(train, tmp_path, FAST_CLASSIFIER)


def test_reference_classifier_uses_k_means_pseudo_labels_without_labels(tmp_path: Path) -> None:
    train = dataclasses.replace(load_dataset("digits", "train"), y=None, num_classes=None)
    classifier = reference_classifier(train, tmp_path, FAST_CLASSIFIER)
    assert classifier.info["labels"] == "k-means pseudo-labels (k=10)"
    assert classifier.info["holdout_accuracy"] > 0.7


# ------------------------------------------------------------------------- the suite


def test_resolve_metrics() -> None:
    labelled, unlabelled = load_dataset("digits", "test"), _binary_data(10)
    names, skipped = resolve_metrics("all", labelled)
    assert names == ["likelihood", "latent", "quality", "downstream"]
    assert list(skipped) == ["accuracy", "disentanglement", "molecules", "links"]
    assert "sequence data" in skipped["molecules"] and "classifier" in skipped["accuracy"]
    assert "graph data" in skipped["links"]
    names, skipped = resolve_metrics("all", unlabelled)
    assert "downstream" not in names and "labels" in skipped["downstream"]
    shapes = load_dataset("shapes-32", "test")
    assert resolve_metrics("all", shapes)[0] == ["likelihood", "latent", "quality", "disentanglement"]
    with pytest.raises(UserError, match="known generating factors"):
        resolve_metrics("disentanglement", labelled)
    assert resolve_metrics("latent, likelihood", labelled) == (["likelihood", "latent"], {})
    with pytest.raises(UserError, match="unknown metric 'fid'"):
        resolve_metrics("likelihood,fid", labelled)
    with pytest.raises(UserError, match="class labels"):
        resolve_metrics("downstream", unlabelled)
    table = dataclasses.replace(unlabelled, x=unlabelled.x.reshape(len(unlabelled), -1), factors=np.zeros((10, 1)))
    assert table.schema.kind == "table" and default_metrics(table) == ["likelihood", "latent"]
    with pytest.raises(UserError, match="applies to image data, not table data"):
        resolve_metrics("disentanglement", table)  # metrics are keyed by the kind of data
    assert "disentanglement" in resolve_metrics("all", table)[1]


def test_quality_ranks_real_data_above_a_random_model(tmp_path: Path) -> None:
    torch.manual_seed(0)
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    model = tiny_vae((1, 8, 8), likelihood="continuous-bernoulli", levels=17)
    settings = EvalSettings(cache_dir=tmp_path, classifier=FAST_CLASSIFIER)
    result = evaluate(model, test, ["quality", "downstream"], train, settings).figures
    classifier = reference_classifier(train, tmp_path, FAST_CLASSIFIER).network
    real_vs_real = frechet_distance(
        classifier.features(torch.from_numpy(test.x).float() / 16),
        classifier.features(torch.from_numpy(train.x[:180]).float() / 16),
    )
    assert real_vs_real < result["frechet_distance"]
    assert result["num_generated"] == len(test) and 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert 0 <= result["latent_accuracy"] <= 1
    with pytest.raises(UserError, match="training split"):
        evaluate(model, test, ["quality"], None, settings)
