"""The mathematics: closed-form KL against Monte Carlo, exact posteriors, bound orderings, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import ContinuousBernoulli, Independent, Normal, kl_divergence

from helpers import LinearGaussian, tiny_vae
from vaelab.data.batch import Batch
from vaelab.distributions import (
    CategoryLayout,
    ColumnCategoricals,
    DiscretizedLogisticMixture,
    GridCategorical,
    SoftmaxCategorical,
    kl_estimate,
)
from vaelab.objectives import ELBO, IWAE


def test_closed_form_gaussian_kl_matches_monte_carlo() -> None:
    torch.manual_seed(0)
    q = Independent(Normal(torch.randn(4, 3), torch.rand(4, 3) + 0.3), 1)
    p = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
    z = q.sample((200_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).mean(0)
    stderr = (q.log_prob(z) - p.log_prob(z)).std(0) / math.sqrt(200_000)
    # 5 standard errors: a false alarm rate far below 1e-3 per comparison.
    assert torch.all((kl_divergence(q, p) - monte_carlo).abs() < 5 * stderr)


def test_kl_estimate_falls_back_to_monte_carlo_without_a_closed_form() -> None:
    torch.manual_seed(0)
    q = Independent(Normal(torch.zeros(2, 1), torch.ones(2, 1)), 1)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=torch.zeros(2)),
        Independent(Normal(torch.tensor([[-1.0], [1.0]]), torch.ones(2, 1)), 1),
    )
    z = q.sample((100_000,))
    estimate = kl_estimate(q, mixture, z)
    assert estimate.shape == (2,)
    # KL(N(0,1) || 0.5 N(-1,1) + 0.5 N(1,1)) by quadrature.
    grid = torch.linspace(-10, 10, 200_001, dtype=torch.float64)
    log_q = Normal(0.0, 1.0).log_prob(grid)
    log_p = torch.logsumexp(
        torch.stack([Normal(-1.0, 1.0).log_prob(grid), Normal(1.0, 1.0).log_prob(grid)]), 0
    ) - math.log(2)
    exact = float(torch.trapezoid(log_q.exp() * (log_q - log_p), grid))
    assert torch.allclose(estimate.double(), torch.full((2,), exact, dtype=torch.float64), atol=0.01)


def test_linear_gaussian_exact_posterior_makes_elbo_equal_log_marginal() -> None:
    torch.manual_seed(0)
    lg = LinearGaussian()
    model = lg.vae()
    x = lg.sample(64)
    log_p = lg.log_marginal(x)
    # Every importance weight equals p(x) when q is the exact posterior.
    log_w = model(Batch(x), num_samples=10).log_weights()
    assert torch.allclose(log_w, log_p.expand_as(log_w), atol=1e-8)
    assert torch.allclose(model.log_likelihood(x, num_samples=7), log_p, atol=1e-8)
    # The ELBO's reconstruction term is a Monte Carlo mean (standard error up to 0.012 nats per example
    # at 20,000 samples, measured): the tolerance is 4 standard errors.
    assert torch.allclose(model.elbo(x, num_samples=20_000), log_p, atol=0.05)


def test_bounds_are_ordered_elbo_below_iwae_below_log_marginal() -> None:
    torch.manual_seed(0)
    lg = LinearGaussian()
    model = lg.vae(posterior_shift=0.8)  # a wrong posterior: the bounds are strict
    x = lg.sample(256)
    log_p = lg.log_marginal(x).mean()
    elbo = model.elbo(x, num_samples=2000).mean()
    iwae = {k: model.log_likelihood(x, num_samples=k).mean() for k in (1, 5, 50, 1000)}
    assert elbo < iwae[5] < iwae[50] < iwae[1000] <= log_p + 1e-3
    # IWAE with K = 1 is the ELBO: compare the one-sample estimate over many draws within 4 standard errors.
    one_sample = model.log_likelihood(x.repeat(100, 1), num_samples=1)
    stderr = one_sample.std() / math.sqrt(len(one_sample))
    assert abs(float(one_sample.mean() - elbo)) < 4 * float(stderr) + 0.01
    assert abs(float(iwae[1000] - log_p)) < 0.05


@torch.no_grad()
def test_iwae_objective_with_one_sample_is_the_elbo_in_expectation() -> None:
    torch.manual_seed(0)
    lg = LinearGaussian()
    model = lg.vae(posterior_shift=0.5)
    x = lg.sample(2000)
    iwae_1 = torch.stack([IWAE(num_samples=1)(model, Batch(x)).terms["iwae"] for _ in range(20)]).mean()
    elbo = ELBO()(model, Batch(x)).terms["elbo"].mean()  # closed-form KL
    assert abs(float(iwae_1 - elbo)) < 0.02
    k5 = torch.stack([IWAE(num_samples=5)(model, Batch(x)).terms["iwae"] for _ in range(20)]).mean()
    assert k5 > iwae_1


@pytest.mark.parametrize("objective", [ELBO(), ELBO(beta=4.0), ELBO(free_bits=0.5), ELBO(capacity=2.0), IWAE(3)])
def test_gradients_reach_every_parameter(objective: object) -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    x = torch.randint(0, 2, (8, 1, 4, 4)).float()
    out = objective(model, Batch(x))  # type: ignore[operator]
    out.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_beta_weights_the_kl_term() -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    x = torch.randint(0, 2, (8, 1, 4, 4)).float()
    torch.manual_seed(1)
    plain = ELBO(beta=1.0)(model, Batch(x))
    torch.manual_seed(1)
    heavy = ELBO(beta=3.0)(model, Batch(x))
    kl = plain.terms["kl"].mean()
    assert torch.allclose(heavy.loss - plain.loss, 2 * kl)
    assert torch.allclose(heavy.terms["elbo"], plain.terms["elbo"])  # elbo is always the beta = 1 bound


def test_free_bits_floor_each_dimension() -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    x = torch.randint(0, 2, (8, 1, 4, 4)).float()
    torch.manual_seed(1)
    out = ELBO(free_bits=100.0)(model, Batch(x))
    # Every dimension's KL is below the floor, so the penalty is latent_dim * 100 and has no gradient.
    assert torch.allclose(out.loss, -out.terms["reconstruction"].mean() + 3 * 100.0)


def test_capacity_penalises_distance_to_target() -> None:
    torch.manual_seed(0)
    model = tiny_vae()
    x = torch.randint(0, 2, (8, 1, 4, 4)).float()
    torch.manual_seed(1)
    out = ELBO(beta=2.0, capacity=50.0)(model, Batch(x))
    kl = out.terms["kl"].mean()
    assert torch.allclose(out.loss, -out.terms["reconstruction"].mean() + 2.0 * (kl - 50.0).abs())


def test_discretized_logistic_is_normalised_over_the_grid() -> None:
    torch.manual_seed(0)
    levels = 17
    dist = DiscretizedLogisticMixture(torch.randn(5, 3), torch.rand(5, 3) * 2 - 1, torch.randn(5, 3) - 2, levels)
    grid = torch.linspace(0, 1, levels).unsqueeze(-1).expand(levels, 5)
    total = dist.log_prob(grid).exp().sum(0)
    assert torch.allclose(total, torch.ones(5), atol=1e-4)
    samples = dist.sample((20_000,))
    assert torch.allclose(samples.mean(0), dist.mean, atol=0.02)


def test_grid_categorical_reads_grid_values_as_classes() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0]])
    dist = GridCategorical(logits)
    log_probs = torch.log_softmax(logits, -1)[0]
    assert torch.allclose(dist.log_prob(torch.tensor([0.5])), log_probs[1:2])
    assert torch.allclose(dist.log_prob(torch.tensor([1.0])), log_probs[2:3])
    assert torch.allclose(dist.mean, (torch.softmax(logits, -1) * torch.tensor([0.0, 0.5, 1.0])).sum(-1))


def test_softmax_categorical_is_torch_categorical_with_its_gradients() -> None:
    torch.manual_seed(0)
    raw = torch.randn(7, 4, 5, dtype=torch.float64) * 3
    value = torch.randint(0, 5, (7, 4))
    ours_logits, torch_logits = raw.clone().requires_grad_(), raw.clone().requires_grad_()
    ours, reference = SoftmaxCategorical(ours_logits), torch.distributions.Categorical(logits=torch_logits)
    assert ours.batch_shape == reference.batch_shape == (7, 4)
    assert torch.allclose(ours.log_prob(value), reference.log_prob(value))
    assert torch.allclose(ours.probs, reference.probs)
    assert torch.allclose(ours.entropy(), reference.entropy())
    assert torch.allclose(kl_divergence(ours, reference), torch.zeros(7, 4, dtype=torch.float64), atol=1e-12)
    ours.log_prob(value).sum().backward()
    reference.log_prob(value).sum().backward()
    assert ours_logits.grad is not None and torch_logits.grad is not None
    assert torch.allclose(ours_logits.grad, torch_logits.grad)
    counts = torch.bincount(SoftmaxCategorical(raw[0, 0]).sample((40_000,)), minlength=5) / 40_000
    assert torch.allclose(counts.double(), torch.softmax(raw[0, 0], -1), atol=0.01)
    with pytest.raises(ValueError, match="at least one dimension"):
        SoftmaxCategorical(torch.tensor(1.0))


def test_column_categoricals_normalise_each_column_over_its_own_logits() -> None:
    sizes = [2, 4, 1]
    flat = torch.arange(7.0).expand(3, 7).clone().requires_grad_()  # (B, sum K_c)
    distribution = ColumnCategoricals(flat, CategoryLayout(sizes))
    assert distribution.batch_shape == (3, 3)
    log_p = distribution.log_prob(torch.tensor([[1.0, 3.0, 0.0]]))  # (B, C)
    expected = torch.stack(
        [
            torch.log_softmax(torch.tensor([0.0, 1.0]), -1)[1],
            torch.log_softmax(torch.tensor([2.0, 3.0, 4.0, 5.0]), -1)[3],
            torch.tensor(0.0),
        ]
    )
    torch.testing.assert_close(log_p[0], expected)
    log_p.sum().backward()
    assert flat.grad is not None and torch.isfinite(flat.grad).all()
    assert torch.allclose(flat.grad[0, 6], torch.tensor(0.0))  # a one-category column: log p = 0 whatever its logit
    assert distribution.mean[0].tolist() == [1.0, 3.0, 0.0]  # each column's most probable category
    draws = distribution.sample((500,))  # (500, B, C): never past a column's own categories
    assert draws.shape == (500, 3, 3) and draws[..., 0].max() == 1 and draws[..., 2].max() == 0


def test_column_categoricals_stay_finite_when_columns_sit_far_apart() -> None:
    """Each column is shifted by its own maximum: a column whose logits lie 1,000 below another's (or above
    float32's exp range) still gets its exact log-probabilities."""
    flat = torch.tensor([[1000.0, 999.0, -1000.0, -1001.0, -1002.0]])
    log_p = ColumnCategoricals(flat, CategoryLayout([2, 3])).log_prob(torch.tensor([[1.0, 2.0]]))
    expected = torch.stack(
        [torch.log_softmax(torch.tensor([1.0, 0.0]), -1)[1], torch.log_softmax(torch.tensor([2.0, 1.0, 0.0]), -1)[2]]
    )
    torch.testing.assert_close(log_p[0], expected, atol=1e-4, rtol=0)  # float32's spacing at 1,000 is 6e-5


def test_continuous_bernoulli_integrates_to_one() -> None:
    grid = torch.linspace(0, 1, 100_001, dtype=torch.float64)
    for logit in (-3.0, 0.0, 0.01, 2.5):
        density = ContinuousBernoulli(logits=torch.tensor(logit, dtype=torch.float64)).log_prob(grid).exp()
        assert abs(float(torch.trapezoid(density, grid)) - 1.0) < 1e-4


@pytest.mark.parametrize("samples", [1, 700])  # one z per x (training), and more rows than a softplus block
def test_bernoulli_log_prob_matches_torch_and_differentiates(samples: int) -> None:
    from vaelab.likelihoods.bernoulli import IndependentBernoulli

    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((3, 784), 0.3, dtype=torch.float64))
    logits = (3 * torch.randn(samples, 3, 784, dtype=torch.float64)).requires_grad_()
    ours = IndependentBernoulli(torch.distributions.Bernoulli(logits=logits), 1).log_prob(x)  # (S, 3)
    reference = Independent(torch.distributions.Bernoulli(logits=logits), 1).log_prob(x)
    assert ours.shape == (samples, 3)
    torch.testing.assert_close(ours, reference)
    (gradient,) = torch.autograd.grad(ours.sum(), logits)
    torch.testing.assert_close(gradient, (x - torch.sigmoid(logits)).detach())
