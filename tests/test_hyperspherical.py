"""The hyperspherical VAE (Davidson et al. 2018): log Bessel functions, the von Mises-Fisher distribution (Wood's
sampler, density, mean resultant length), the uniform prior on the sphere and the closed-form KL between them."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import kl_divergence

import vaelab
from helpers import run_cli, tiny_vae
from vaelab.data.batch import Batch
from vaelab.distributions.bessel import log_bessel_iv
from vaelab.distributions.von_mises_fisher import (
    HypersphericalUniform,
    VonMisesFisher,
    householder_rotate,
    log_sphere_area,
)
from vaelab.errors import UserError
from vaelab.posteriors.von_mises_fisher import VonMisesFisherPosterior
from vaelab.priors.uniform_sphere import UniformSpherePrior

mpmath = pytest.importorskip("mpmath")

F64 = torch.float64
KAPPAS = [0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1e3, 1e4]
DIMS = [2, 3, 5, 10, 32, 64]


def vmf(dim: int, kappa: float, seed: int = 0) -> VonMisesFisher:
    loc = torch.randn(dim, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return VonMisesFisher(loc / loc.norm(), torch.tensor([kappa], dtype=F64))


# ------------------------------------------------------------------------------------------- log Bessel


@pytest.mark.parametrize("dim", DIMS)
def test_log_bessel_matches_arbitrary_precision_values_and_derivatives(dim: int) -> None:
    """log I_v(κ) and d/dκ log I_v(κ) = I_v'(κ) / I_v(κ) against mpmath at 30 digits, v = m/2 - 1, to 1e-6."""
    order = dim / 2 - 1
    kappa = torch.tensor(KAPPAS, dtype=F64, requires_grad=True)
    value = log_bessel_iv(order, kappa)
    (gradient,) = torch.autograd.grad(value.sum(), kappa)
    with mpmath.workdps(30):
        expected = [float(mpmath.log(mpmath.besseli(order, k))) for k in KAPPAS]
        slope = [float(mpmath.diff(lambda t: mpmath.log(mpmath.besseli(order, t)), k)) for k in KAPPAS]
    torch.testing.assert_close(value.detach(), torch.tensor(expected, dtype=F64), rtol=1e-6, atol=0)
    torch.testing.assert_close(gradient, torch.tensor(slope, dtype=F64), rtol=1e-6, atol=0)


def test_log_bessel_passes_gradcheck_and_keeps_device_and_dtype() -> None:
    kappa = torch.tensor([0.3, 2.0, 40.0], dtype=F64, requires_grad=True)
    for order in (0.0, 0.5, 4.0, 31.0):
        assert torch.autograd.gradcheck(lambda k, v=order: log_bessel_iv(v, k), (kappa,))
    assert log_bessel_iv(1.0, torch.tensor([2.0])).dtype == torch.float32


# ------------------------------------------------------------------------------------------- vMF


@pytest.mark.parametrize("dim", [2, 3, 10, 64])
@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e3])
def test_samples_are_unit_vectors_whose_mean_is_the_mean_resultant_length_times_mu(dim: int, kappa: float) -> None:
    """E[z] = A_m(κ) μ with A_m(κ) = I_{m/2}(κ) / I_{m/2-1}(κ): checked along μ and across it, within 5 standard
    errors of the Monte Carlo mean."""
    torch.manual_seed(dim)
    q = vmf(dim, kappa)
    z = q.rsample((20000,))
    assert z.shape == (20000, dim)
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(20000, dtype=F64), rtol=0, atol=1e-12)
    with mpmath.workdps(30):
        expected = float(mpmath.besseli(dim / 2, kappa) / mpmath.besseli(dim / 2 - 1, kappa))
    assert q.mean_resultant_length.item() == pytest.approx(expected, rel=1e-6)
    along = z @ q.loc
    assert abs(along.mean().item() - expected) < 5 * along.std().item() / math.sqrt(len(z)) + 1e-12
    across = z - along[:, None] * q.loc  # the mean's component orthogonal to μ vanishes
    assert (across.mean(0).abs() < 5 * across.std(0) / math.sqrt(len(z)) + 1e-12).all()


@pytest.mark.parametrize("dim", [3, 10])
def test_the_sampler_draws_omega_from_its_exact_marginal(dim: int) -> None:
    """ω = μ^T z has density ∝ exp(κ t) (1 - t²)^{(m-3)/2} on [-1, 1]; the Kolmogorov-Smirnov distance of 20000
    draws from its numerically integrated CDF stays under 1.63 / sqrt(n) (the 1% critical value)."""
    torch.manual_seed(1)
    kappa, n = 4.0, 20000
    q = vmf(dim, kappa)
    omega = np.sort((q.sample((n,)) @ q.loc).numpy())
    t = np.linspace(-1, 1, 200001)
    density = np.exp(kappa * t) * np.clip(1 - t**2, 0, None) ** ((dim - 3) / 2)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(t))])
    cdf /= cdf[-1]
    empirical = np.arange(1, n + 1) / n
    assert np.abs(np.interp(omega, t, cdf) - empirical).max() < 1.63 / math.sqrt(n)


@pytest.mark.parametrize("dim", [2, 3, 7, 64])
@pytest.mark.parametrize("kappa", [0.1, 5.0, 300.0])
def test_the_density_integrates_to_one_on_the_sphere(dim: int, kappa: float) -> None:
    """On S^1 (m = 2) over the angle directly; for every m through t = cos θ:
    ∫_0^π C_m(κ) e^{κ cos θ} area(S^{m-2}) sin^{m-2} θ dθ = 1."""
    q = vmf(dim, kappa)
    theta = torch.linspace(0, math.pi, 100001, dtype=F64)
    if dim == 2:
        angle = torch.linspace(-math.pi, math.pi, 100001, dtype=F64)
        z = torch.stack([angle.cos(), angle.sin()], -1)
        total = torch.trapezoid(q.log_prob(z).exp(), angle)
        assert total.item() == pytest.approx(1.0, abs=1e-6)
    sphere_below = math.exp(log_sphere_area(dim - 1)) if dim > 2 else 2.0
    z = householder_rotate(torch.stack([theta.cos(), theta.sin(), *([torch.zeros_like(theta)] * (dim - 2))], -1), q.loc)
    integrand = q.log_prob(z).exp() * sphere_below * theta.sin() ** (dim - 2)
    assert torch.trapezoid(integrand, theta).item() == pytest.approx(1.0, abs=1e-6)


def test_the_householder_reflection_takes_e1_to_mu_and_preserves_lengths() -> None:
    mu = vmf(6, 1.0).loc
    e1 = torch.zeros(6, dtype=F64)
    e1[0] = 1
    torch.testing.assert_close(householder_rotate(e1, mu), mu)
    x = torch.randn(10, 6, dtype=F64)
    torch.testing.assert_close(householder_rotate(x, mu).norm(dim=-1), x.norm(dim=-1))
    torch.testing.assert_close(householder_rotate(x, e1), x)  # μ = e1: the identity


@pytest.mark.parametrize("dim", [2, 5, 32])
@pytest.mark.parametrize("kappa", [0.5, 20.0, 2000.0])
def test_the_closed_form_kl_from_the_uniform_matches_monte_carlo(dim: int, kappa: float) -> None:
    torch.manual_seed(2)
    q, p = vmf(dim, kappa), HypersphericalUniform(dim, F64)
    z = q.sample((40000,))
    log_ratio = q.log_prob(z) - p.log_prob(z)
    kl = kl_divergence(q, p)
    assert kl.item() >= 0
    assert abs(kl.item() - log_ratio.mean().item()) < 5 * log_ratio.std().item() / math.sqrt(len(z)) + 1e-9


def test_the_uniform_density_is_one_over_the_area_and_its_samples_lie_on_the_sphere() -> None:
    assert math.exp(log_sphere_area(2)) == pytest.approx(2 * math.pi)  # the circle
    assert math.exp(log_sphere_area(3)) == pytest.approx(4 * math.pi)
    p = UniformSpherePrior(5)()
    z = p.sample((1000,))
    assert z.shape == (1000, 5)
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(1000))
    assert torch.allclose(p.log_prob(z), torch.full((1000,), -log_sphere_area(5)))
    assert z.mean(0).abs().max() < 0.15  # no preferred direction


def test_gradients_reach_the_direction_and_the_concentration() -> None:
    """The reparameterised sample (g_rep) carries gradients to μ's parameters and to κ: E[μ^T z] = A_m(κ) grows
    with κ, and its estimated derivative is positive."""
    torch.manual_seed(3)
    raw = torch.randn(4, dtype=F64, requires_grad=True)
    kappa = torch.tensor([5.0], dtype=F64, requires_grad=True)
    fixed = (raw / raw.norm()).detach()
    q = VonMisesFisher(raw / raw.norm(), kappa)
    (q.rsample((2000,)) @ fixed).mean().backward()
    assert raw.grad is not None and torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0
    assert kappa.grad is not None and kappa.grad.item() > 0


# ------------------------------------------------------------------------------------------- the model


def svae() -> vaelab.VAE:
    return tiny_vae(posterior="vmf", prior="uniform-sphere")


def test_the_svae_model_reports_the_closed_form_kl_and_codes_on_the_sphere() -> None:
    torch.manual_seed(0)
    model = svae()
    assert isinstance(model.posterior, VonMisesFisherPosterior) and isinstance(model.prior, UniformSpherePrior)
    x = torch.randint(0, 2, (6, 1, 4, 4)).float()
    out = model(Batch(x), num_samples=3)
    assert isinstance(out.q_z, VonMisesFisher) and (out.q_z.concentration >= 1).all()
    torch.testing.assert_close(out.kl(), kl_divergence(out.q_z, out.p_z))  # closed form, not Monte Carlo
    torch.testing.assert_close(out.z.norm(dim=-1), torch.ones(3, 6))
    torch.testing.assert_close(model.sample(5, mean=False).shape, torch.Size([5, 1, 4, 4]))
    torch.testing.assert_close(model.embed(x).norm(dim=-1), torch.ones(6))  # the mean direction
    assert torch.isfinite(model.log_likelihood(x, num_samples=20)).all()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"posterior": "vmf", "prior": "standard-normal"}, "and the uniform-sphere prior go together"),
        ({"posterior": "vmf", "prior": "vamp"}, "and the uniform-sphere prior go together"),
        ({"posterior": "gaussian", "prior": "uniform-sphere"}, "and the uniform-sphere prior go together"),
        ({"posterior": "ladder", "prior": "uniform-sphere"}, "and the uniform-sphere prior go together"),
    ],
)
def test_pairings_off_the_sphere_are_refused_in_one_line(parts: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        tiny_vae(**parts)


def test_a_sphere_needs_two_to_256_dimensions() -> None:
    for latent_dim in (1, 257):
        with pytest.raises(UserError, match=re.escape("2 <= model.latent_dim <= 256")):
            VonMisesFisherPosterior(8, latent_dim)


@pytest.mark.slow
def test_svae_trains_from_the_cli_loads_and_samples(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    args = [
        "train",
        "--model",
        "svae",
        "--data",
        "digits",
        "--epochs",
        "1",
        "--latent-dim",
        "5",
        "--hidden-dims",
        "16",
        "--out",
        str(out),
    ]
    code, _, err = run_cli([*args, "--no-progress", "--no-report"], capsys, monkeypatch)
    assert code == 0, err
    model = vaelab.load(out)
    assert isinstance(model.posterior, VonMisesFisherPosterior)
    torch.testing.assert_close(model.prior_sample(4).norm(dim=-1), torch.ones(4))
    code, _, err = run_cli(["sample", str(out), "-n", "4", "--out", str(tmp_path / "s.png")], capsys, monkeypatch)
    assert code == 0, err
