"""Imputation estimators against a linear-Gaussian model whose conditionals are known in closed form:
p(x) = N(b, W W^T + sigma^2 I), so p(x_m | x_o) = N(b_m + C_mo C_oo^-1 (x_o - b_o), C_mm - C_mo C_oo^-1 C_om)
(Bishop 2006, eqs. 2.81-2.82). The encoder reads the zero-filled row, so q(z | x_o) is only a proposal: the
estimators must be right anyway, because they reweigh or accept by the exact model."""

from __future__ import annotations

import pytest
import torch

from helpers import LinearGaussian
from vaelab.applications.imputation import (
    conditional_log_likelihood,
    conditional_mean,
    metropolis_within_gibbs,
    resampled_imputations,
)
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE

torch.set_num_threads(1)
OBSERVED = torch.tensor([True, False, True, False, True])  # x_1 and x_3 missing


def exact_conditional(lg: LinearGaussian, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact mean ``(B, 2)`` and covariance ``(2, 2)`` of the missing entries given the observed ones."""
    cov = lg.W @ lg.W.T + lg.sigma**2 * torch.eye(lg.data_dim, dtype=torch.float64)
    o, m = OBSERVED, ~OBSERVED
    gain = cov[m][:, o] @ torch.linalg.inv(cov[o][:, o])  # (2, 3)
    mean = lg.b[m] + (x[:, o] - lg.b[o]) @ gain.T
    return mean, cov[m][:, m] - gain @ cov[o][:, m]


def proposal_model(lg: LinearGaussian, shift: float = 0.3, widen: float = 3.0) -> VAE:
    """The linear-Gaussian VAE with its posterior shifted and ``widen`` times wider: q(z | zero-filled x) then
    covers p(z | x_o), as a proposal for self-normalised importance sampling must."""
    model = lg.vae(posterior_shift=shift)
    k = lg.latent_dim
    with torch.no_grad():
        bias = model.posterior.linear.bias  # type: ignore[union-attr]
        scale = torch.nn.functional.softplus(bias[k:]) * widen
        bias[k:] = torch.log(torch.expm1(scale))
    return model


def incomplete(x: torch.Tensor) -> Batch:
    mask = OBSERVED.expand_as(x).clone()
    return Batch(torch.where(mask, x, 0.0), mask=mask)


@pytest.fixture(scope="module")
def setting() -> tuple[LinearGaussian, torch.Tensor]:
    lg = LinearGaussian()
    return lg, lg.sample(6, seed=3)


def test_conditional_mean_matches_the_exact_one(setting: tuple[LinearGaussian, torch.Tensor]) -> None:
    lg, x = setting
    torch.manual_seed(0)
    imputed = conditional_mean(proposal_model(lg), incomplete(x), num_samples=20_000)
    mean, _ = exact_conditional(lg, x)
    assert torch.equal(imputed[:, OBSERVED], x[:, OBSERVED])  # observed entries untouched
    assert torch.allclose(imputed[:, ~OBSERVED], mean, atol=0.03)
    # Too few samples from a poor proposal are visibly worse: the test can fail.
    rough = conditional_mean(lg.vae(posterior_shift=2.0), incomplete(x), num_samples=2)
    assert (rough[:, ~OBSERVED] - mean).abs().max() > 0.05


def test_resampled_imputations_have_the_exact_conditional_moments(
    setting: tuple[LinearGaussian, torch.Tensor],
) -> None:
    lg, x = setting
    torch.manual_seed(1)
    draws = resampled_imputations(proposal_model(lg), incomplete(x[:2]), 4000, num_samples=20_000)
    assert draws.shape == (4000, 2, 5)
    mean, cov = exact_conditional(lg, x[:2])
    missing = draws[..., ~OBSERVED]  # (M, 2, 2)
    assert torch.allclose(missing.mean(0), mean, atol=0.06)
    for row in range(2):  # 4,000 draws resampled from 20,000 weighted ones: a variance is known to about 5 %
        assert torch.allclose(torch.cov(missing[:, row].T), cov, atol=0.1)
    assert torch.equal(draws[..., OBSERVED], x[:2, OBSERVED].expand(4000, 2, 3))


def test_conditional_log_likelihood_matches_the_exact_density(setting: tuple[LinearGaussian, torch.Tensor]) -> None:
    lg, x = setting
    torch.manual_seed(2)
    batch = Batch(x, mask=OBSERVED.expand_as(x).clone())  # the hidden values are known, the model cannot see them
    target = ~OBSERVED.expand_as(x)
    estimate = conditional_log_likelihood(proposal_model(lg), batch, target, num_samples=20_000)
    mean, cov = exact_conditional(lg, x)
    exact = torch.distributions.MultivariateNormal(mean, cov).log_prob(x[:, ~OBSERVED])
    assert torch.allclose(estimate, exact, atol=0.04)  # the leftover Monte Carlo error at K = 20,000
    with pytest.raises(UserError, match="shape"):
        conditional_log_likelihood(lg.vae(), batch, torch.ones(6, 4, dtype=torch.bool))


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_metropolis_within_gibbs_samples_the_exact_conditional(
    setting: tuple[LinearGaussian, torch.Tensor], shift: float
) -> None:
    """With the exact posterior as proposal every move is accepted; with a shifted one fewer are, and the
    chain still targets the exact conditional (the Metropolis-Hastings correction)."""
    lg, x = setting
    torch.manual_seed(3)
    batch = incomplete(x[:2])
    chain = metropolis_within_gibbs(lg.vae(posterior_shift=shift), batch, batch.x, steps=20_000, burn_in=200)
    mean, cov = exact_conditional(lg, x[:2])
    missing = chain.draws[..., ~OBSERVED]  # (M, 2, 2)
    assert torch.allclose(missing.mean(0), mean, atol=0.08)
    for row in range(2):
        assert torch.allclose(torch.cov(missing[:, row].T), cov, atol=0.08)
    if shift == 0.0:
        assert bool((chain.acceptance > 0.999).all())
    else:
        assert bool((chain.acceptance < 0.9).all())


def test_bad_arguments_are_one_line_errors(setting: tuple[LinearGaussian, torch.Tensor]) -> None:
    lg, x = setting
    model = lg.vae()
    with pytest.raises(UserError, match="at least 1"):
        conditional_mean(model, incomplete(x), num_samples=0)
    with pytest.raises(UserError, match="burn_in"):
        metropolis_within_gibbs(model, incomplete(x), x, steps=10, burn_in=10)
    with pytest.raises(UserError, match="mask"):
        conditional_log_likelihood(model, Batch(x), torch.ones_like(x, dtype=torch.bool))


def test_masked_bounds_are_those_of_the_observed_entries(setting: tuple[LinearGaussian, torch.Tensor]) -> None:
    """The masked ELBO <= the masked IWAE bound <= log p(x_o), and the importance-sampled estimate reaches
    log p(x_o) = log N(x_o; b_o, C_oo) (MIWAE's bound: Mattei & Frellsen 2019, eq. 4)."""
    lg, x = setting
    torch.manual_seed(4)
    model = proposal_model(lg)
    batch = incomplete(x)
    cov = lg.W @ lg.W.T + lg.sigma**2 * torch.eye(lg.data_dim, dtype=torch.float64)
    exact = torch.distributions.MultivariateNormal(lg.b[OBSERVED], cov[OBSERVED][:, OBSERVED]).log_prob(x[:, OBSERVED])
    elbo = model.elbo(batch, num_samples=5000)
    iwae = model.log_likelihood(batch, num_samples=20)
    estimate = model.log_likelihood(batch, num_samples=20_000)
    assert (elbo < iwae).all() and (iwae.mean() < exact.mean())
    assert torch.allclose(estimate, exact, atol=0.04)  # the leftover Monte Carlo error at K = 20,000
