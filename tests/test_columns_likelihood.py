"""The mixed-table likelihoods: each column family against torch's own distributions, the composite's sum,
its masked log-density, sampling and means, and the ordinal model's probabilities."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Categorical, NegativeBinomial, Normal, Poisson

from vaelab.data.schema import Feature
from vaelab.likelihoods import (
    CategoricalColumnsLikelihood,
    ColumnsLikelihood,
    GaussianMixtureLikelihood,
    NegativeBinomialLikelihood,
    OrdinalLikelihood,
    PoissonLikelihood,
)
from vaelab.likelihoods.columns import continuous_floors
from vaelab.likelihoods.gaussian import positive_scale

torch.set_num_threads(1)

FEATURES = (
    Feature("height", "continuous"),
    Feature("colour", "categorical", categories=("blue", "green", "red")),
    Feature("smoker", "binary", levels=2),
    Feature("visits", "count"),
    Feature("grade", "ordinal", levels=4),
    Feature("side", "categorical", categories=("left", "right")),
    Feature("weight", "continuous"),
)
ROWS = torch.tensor(
    [
        [0.3, 2.0, 1.0, 4.0, 3.0, 1.0, -1.2],
        [-1.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4],
        [2.0, 1.0, 1.0, 11.0, 1.0, 1.0, 0.0],
    ]
)


def test_categorical_columns_match_one_torch_categorical_per_column() -> None:
    likelihood = CategoricalColumnsLikelihood([3, 2, 5])
    eta = torch.randn(4, 10)
    x = torch.tensor([[2.0, 1.0, 4.0], [0.0, 0.0, 0.0], [1.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    expected = (
        Categorical(logits=eta[:, :3]).log_prob(x[:, 0].long())
        + Categorical(logits=eta[:, 3:5]).log_prob(x[:, 1].long())
        + Categorical(logits=eta[:, 5:]).log_prob(x[:, 2].long())
    )
    torch.testing.assert_close(likelihood(eta).log_prob(x), expected)
    draws = likelihood(eta).sample((2000,))  # (2000, 4, 3): each column within its own categories
    assert draws.shape == (2000, 4, 3) and draws[..., 1].max() <= 1 and draws[..., 2].max() == 4
    assert likelihood.support_problem(torch.tensor([[2.0, 2.0, 0.0]])) is not None  # column 1 has 2 categories


def test_count_likelihoods_match_torch() -> None:
    x = torch.tensor([[0.0, 3.0], [7.0, 1.0]])
    eta = torch.randn(2, 1, 2)
    poisson = Poisson(positive_scale(eta[:, 0], 1e-4))
    torch.testing.assert_close(PoissonLikelihood((2,))(eta).log_prob(x), poisson.log_prob(x).sum(-1))
    eta = torch.randn(2, 2, 2)
    negative_binomial = NegativeBinomial(positive_scale(eta[:, 0], 1e-3), logits=eta[:, 1])
    torch.testing.assert_close(NegativeBinomialLikelihood((2,))(eta).log_prob(x), negative_binomial.log_prob(x).sum(-1))
    assert PoissonLikelihood((2,)).support_problem(torch.tensor([[1.5, 0.0]])) is not None


def test_gaussian_mixture_with_one_component_is_a_gaussian_and_mixes_correctly() -> None:
    x = torch.tensor([[0.5, -1.0]])
    single = GaussianMixtureLikelihood((2,), components=1)
    eta = torch.randn(1, 3, 2)
    expected = Normal(eta[:, 1], positive_scale(eta[:, 2], 1e-3)).log_prob(x).sum(-1)
    torch.testing.assert_close(single(eta).log_prob(x), expected)
    two = GaussianMixtureLikelihood((2,), components=2)
    eta = torch.randn(1, 6, 2)
    logits, loc, raw = eta[:, 0:2], eta[:, 2:4], eta[:, 4:6]  # (1, K, D)
    log_weights = torch.log_softmax(logits, dim=1)
    per_component = Normal(loc, positive_scale(raw, 1e-3)).log_prob(x.unsqueeze(1)) + log_weights
    torch.testing.assert_close(two(eta).log_prob(x), torch.logsumexp(per_component, dim=1).sum(-1))


@torch.no_grad()
def test_ordinal_levels_are_a_distribution_with_increasing_cut_points() -> None:
    likelihood = OrdinalLikelihood([4, 2, 6])
    likelihood.raw_cuts.normal_()
    cuts = likelihood.cut_points()
    assert bool((cuts[:, 1:] > cuts[:, :-1]).all())
    eta = torch.randn(5, 1, 3)
    logits = likelihood(eta).base_dist.logits  # (5, 3, 6): padded past each column's levels
    probabilities = logits.exp()
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(5, 3))
    assert bool((probabilities[:, 0, 4:] == 0).all()) and bool((probabilities[:, 1, 2:] == 0).all())
    # P(x <= k) = sigmoid(theta_k - eta) (McCullagh 1980, eq. 2.4)
    cumulative = probabilities[:, 2].cumsum(-1)[:, :-1]
    torch.testing.assert_close(cumulative, torch.sigmoid(cuts[2] - eta[:, 0, 2:3]), atol=1e-5, rtol=1e-5)
    # a larger location moves mass to higher levels
    levels = torch.arange(6.0)
    expected = [
        float((likelihood(torch.full((1, 1, 3), shift)).base_dist.probs[0, 2] * levels).sum())
        for shift in (-3.0, 0.0, 3.0)
    ]
    assert expected[0] < expected[1] < expected[2]


@pytest.mark.parametrize("continuous", ["gaussian", "mixture"])
def test_columns_likelihood_is_the_sum_of_its_families(continuous: str) -> None:
    likelihood = ColumnsLikelihood(FEATURES, continuous=continuous)  # type: ignore[arg-type]
    eta = torch.randn(2, 3, *likelihood.param_shape)  # (S, B, P)
    p_x = likelihood(eta)
    assert p_x.batch_shape == (2, 3) and p_x.event_shape == (7,)
    total = torch.zeros(2, 3)
    for g, family in enumerate(likelihood.families):
        columns = likelihood._column_index(g)
        start = sum(likelihood.widths[:g])
        chunk = eta[..., start : start + likelihood.widths[g]].reshape(2, 3, *family.param_shape)
        total = total + family(chunk).log_prob(ROWS[:, columns])
    torch.testing.assert_close(p_x.log_prob(ROWS), total)
    assert likelihood.support_problem(ROWS) is None


def test_columns_likelihood_masks_missing_cells_exactly() -> None:
    likelihood = ColumnsLikelihood(FEATURES, continuous="gaussian")
    eta = torch.randn(3, *likelihood.param_shape)
    p_x = likelihood(eta)
    mask = torch.ones_like(ROWS, dtype=torch.bool)
    torch.testing.assert_close(p_x.masked_log_prob(ROWS, mask), p_x.log_prob(ROWS))
    mask[0, 1] = False  # row 0's colour is missing: its term leaves the sum, nothing else changes
    gaussian_width = likelihood.widths[0] + likelihood.widths[1]  # continuous (decoded scale), binary
    assert likelihood.widths[0] == 2 * 2 and likelihood.widths[1] == 1
    colour = Categorical(logits=eta[0, gaussian_width : gaussian_width + 3]).log_prob(torch.tensor(2))
    difference = p_x.log_prob(ROWS)[0] - p_x.masked_log_prob(ROWS, mask)[0]
    torch.testing.assert_close(difference, colour)
    assert math.isfinite(float(p_x.masked_log_prob(torch.nan_to_num(ROWS), mask).sum().detach()))


def test_columns_samples_and_means_respect_each_column() -> None:
    likelihood = ColumnsLikelihood(FEATURES)
    p_x = likelihood(torch.randn(50, *likelihood.param_shape))
    draws = p_x.sample((4,))
    assert draws.shape == (4, 50, 7)
    assert likelihood.support_problem(draws) is None  # categories, 0/1, counts and levels where they belong
    mean = p_x.mean
    assert mean.shape == (50, 7) and likelihood.support_problem(mean.round()) is None


def test_binary_group_is_bernoulli() -> None:
    features = (Feature("a", "binary", levels=2), Feature("b", "binary", levels=2))
    likelihood = ColumnsLikelihood(features)
    eta = torch.randn(3, 2)
    x = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    torch.testing.assert_close(likelihood(eta).log_prob(x), Bernoulli(logits=eta).log_prob(x).sum(-1))


def test_an_integer_floor_lowers_the_scale_floor_of_wide_integer_columns_only() -> None:
    features = (
        Feature("gain", "continuous", scale=7400.0, integer=True),  # 0.1 units = 1.35e-5 sd: below 1e-3
        Feature("age", "continuous", scale=13.6, integer=True),  # 0.1 units = 7.4e-3 sd: min_scale is lower
        Feature("ratio", "continuous", scale=7400.0),  # not whole numbers
    )
    expected = [0.1 / 7400.0, 1e-3, 1e-3]
    assert continuous_floors(features, 1e-3, 0.1) == pytest.approx(expected)
    assert continuous_floors(features, 1e-3, None) is None
    for continuous in ("mixture", "gaussian"):
        likelihood = ColumnsLikelihood(features, continuous=continuous, min_scale=1e-3, integer_floor=0.1)
        eta = torch.full((2, *likelihood.param_shape), -30.0)  # every raw scale far below 0: scales at their floor
        cells = likelihood(eta).groups[0][0].base_dist  # the continuous columns' distribution, batch (2, 3)
        scale = cells.component_distribution.scale if continuous == "mixture" else cells.scale
        floors = scale.reshape(2, 3, -1)[0, :, 0]  # (columns,) of the first row (and first component)
        assert floors.tolist() == pytest.approx(expected, rel=1e-4)


def test_floors_must_be_one_positive_number_per_element() -> None:
    with pytest.raises(ValueError, match="floors must be 3 positive numbers, one per element"):
        GaussianMixtureLikelihood((3,), floors=[1e-3, 1e-3])
    with pytest.raises(ValueError, match="floors must be 3 positive numbers"):
        GaussianMixtureLikelihood((3,), floors=[1e-3, 0.0, 1e-3])
