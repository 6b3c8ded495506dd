"""The Hamiltonian VAE (Caterini, Doucet & Sejdinovic 2018): the leapfrog flow's reversibility and volume, the
tempered bound's Jacobian, the bound against log p(x) in an exactly solvable linear-Gaussian model, and the
preset through the command line."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest
import torch
import yaml

import vaelab
from helpers import LinearGaussian, run_cli, tiny_vae
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.objectives.hamiltonian_vae import HamiltonianELBO
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.posteriors.hamiltonian import HamiltonianPosterior, leapfrog, log_density_gradient
from vaelab.training.trainer import evaluate_objective

F64 = torch.float64


def banana(z: torch.Tensor) -> torch.Tensor:
    """A non-Gaussian log density in 2-D, (..., 2) -> (...)."""
    return -0.5 * z[..., 0] ** 2 - 0.5 * (z[..., 1] - z[..., 0] ** 2) ** 2 / 0.5


def flow_part(steps: int, step_size: float = 0.1, beta0: float = 0.4) -> HamiltonianPosterior:
    return HamiltonianPosterior(DiagonalGaussianPosterior(3, 2), steps, step_size, beta0).double()


def test_leapfrog_is_reversible() -> None:
    """K steps forward, momentum negated, K steps again: back at the start with the momentum negated."""
    z0 = torch.tensor([[0.3, -0.2], [1.1, 0.7]], dtype=F64)
    rho0 = torch.tensor([[0.5, 1.0], [-0.8, 0.2]], dtype=F64)
    step = torch.tensor([0.1, 0.05], dtype=F64)

    def run(z: torch.Tensor, rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, gradient = log_density_gradient(banana, z, create_graph=False)
        for _ in range(7):
            z, rho, _, gradient = leapfrog(z, rho, gradient, step, banana, create_graph=False)
        return z.detach(), rho.detach()

    z, rho = run(z0, rho0)
    assert (z - z0).abs().max() > 0.1  # it moved
    back, rho_back = run(z, -rho)
    torch.testing.assert_close(back, z0, rtol=0, atol=1e-12)
    torch.testing.assert_close(rho_back, -rho0, rtol=0, atol=1e-12)


def flow_map(part: HamiltonianPosterior) -> object:
    """(z_0, ρ_0) (4,) -> (z_K, ρ_K) (4,) through ``part``'s tempered flow on the banana density."""

    def mapping(state: torch.Tensor) -> torch.Tensor:
        z0, rho0 = state[:2], state[2:]
        gamma0 = rho0 * part.sqrt_inverse_temperatures()[0]
        path = part.flow(z0, gamma0, banana, create_graph=True)
        return torch.cat([path.z, path.rho])

    return mapping


@pytest.mark.parametrize("steps", [1, 4])
def test_the_flow_scales_volume_by_beta0_to_the_half_dimension(steps: int) -> None:
    """Leapfrog steps preserve volume and the tempering steps multiply it by prod_k (β_{k-1}/β_k)^{D/2} =
    β_0^{D/2}: the Jacobian determinant of (z_0, ρ_0) -> (z_K, ρ_K) that the bound's last term accounts for."""
    part = flow_part(steps)
    state = torch.tensor([0.4, -0.3, 0.9, -0.5], dtype=F64)
    jacobian = torch.autograd.functional.jacobian(flow_map(part), state)
    beta0 = part.beta0.item()
    assert torch.linalg.det(jacobian).item() == pytest.approx(beta0 ** (2 / 2), rel=1e-9)
    untempered = torch.autograd.functional.jacobian(flow_map(flow_part(steps, beta0=1 - 1e-12)), state)
    assert torch.linalg.det(untempered).item() == pytest.approx(1.0, rel=1e-9)  # leapfrog alone: volume 1


def test_the_schedule_cools_from_beta0_to_one() -> None:
    part = flow_part(5, beta0=0.25)
    betas = [r.item() ** 2 for r in part.sqrt_inverse_temperatures()]
    assert betas[0] == pytest.approx(0.25) and betas[-1] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(betas))
    assert [r.item() for r in flow_part(0).sqrt_inverse_temperatures()] == [1.0]


def hamiltonian(model: VAE, steps: int, step_size: float = 0.01, beta0: float = 0.3) -> VAE:
    """``model`` with its Gaussian head wrapped in a Hamiltonian posterior of ``steps`` leapfrog steps."""
    base = model.posterior
    assert isinstance(base, DiagonalGaussianPosterior)
    model.posterior = HamiltonianPosterior(base, steps, step_size, beta0).to(next(base.parameters()).dtype)
    return model


def test_with_no_steps_the_bound_is_the_elbo_estimator() -> None:
    model = hamiltonian(tiny_vae(), steps=0)
    batch = Batch(torch.randint(0, 2, (8, 1, 4, 4), generator=torch.Generator().manual_seed(0)).float())
    torch.manual_seed(1)
    out = HamiltonianELBO()(model, batch)
    torch.manual_seed(1)
    log_w = model(batch).log_weights()[0]  # log p(x, z_0) - log q(z_0|x) at the same z_0
    torch.testing.assert_close(out.terms["hamiltonian_elbo"], log_w)
    torch.testing.assert_close(out.loss, -log_w.mean())


def linear_gaussian_batch(lg: LinearGaussian, n: int = 16) -> Batch:
    return Batch(lg.sample(n, seed=3))


def test_the_bound_stays_below_log_px_and_beats_the_gaussian_elbo_after_learning_the_flow() -> None:
    """p(z) = N(0, I), p(x|z) = N(Wz + b, σ² I): log p(x) is exact. The starting posterior is the exact one shifted
    by 0.5, so its ELBO is below log p(x) by the KL of the shift. Averaged over 400 draws per example, the HVAE bound
    stays below log p(x) (up to 5 standard errors); after 100 Adam steps on ε and β_0 alone, the flow moves z_0
    towards the posterior and the bound beats the plain ELBO of the same q(z_0|x)."""
    torch.manual_seed(0)
    lg = LinearGaussian()
    model = hamiltonian(lg.vae(posterior_shift=0.5), steps=5, step_size=0.05, beta0=0.5)
    batch = linear_gaussian_batch(lg)
    repeated = Batch(batch.x.repeat(400, 1))  # 400 draws per example, (400 * 16, 5)
    log_px = lg.log_marginal(batch.x)  # (16,)

    def bounds() -> tuple[torch.Tensor, torch.Tensor]:
        out = HamiltonianELBO()(model, repeated)
        return out.terms["hamiltonian_elbo"].detach().view(400, 16), out.terms["elbo"].detach().view(400, 16)

    def check_below(values: torch.Tensor) -> None:
        error = values.std(0) / math.sqrt(len(values))
        assert (values.mean(0) <= log_px + 5 * error).all()

    hvae, _ = bounds()
    check_below(hvae)
    flow = [model.posterior.raw_step_size, model.posterior.raw_beta0]
    optimizer = torch.optim.Adam(flow, lr=0.1)
    for _ in range(100):
        optimizer.zero_grad()
        HamiltonianELBO()(model, Batch(batch.x.repeat(8, 1))).loss.backward()
        optimizer.step()
    learned, elbo_after = bounds()
    check_below(learned)
    difference = learned - elbo_after  # paired: the same z_0 (400, 16)
    gain, error = difference.mean(), difference.std() / math.sqrt(difference.numel())
    assert gain > max(5 * error, 0.1)
    assert learned.mean() > hvae.mean()


def test_gradients_reach_the_step_sizes_the_temperature_and_the_networks() -> None:
    torch.manual_seed(0)
    model = hamiltonian(tiny_vae(), steps=3)
    batch = Batch(torch.randint(0, 2, (8, 1, 4, 4)).float())
    HamiltonianELBO()(model, batch).loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
    posterior = model.posterior
    assert isinstance(posterior, HamiltonianPosterior)
    assert posterior.raw_step_size.grad is not None and posterior.raw_step_size.grad.abs().sum() > 0
    assert posterior.raw_beta0.grad is not None and posterior.raw_beta0.grad.abs() > 0


def test_validation_runs_the_flow_inside_inference_mode() -> None:
    torch.manual_seed(0)
    model = hamiltonian(tiny_vae(), steps=2)
    with torch.inference_mode():
        x = torch.randint(0, 2, (8, 1, 4, 4)).float()  # an inference tensor, as evaluation code may make
    means = evaluate_objective(model, HamiltonianELBO(), [Batch(x)])
    assert set(means) >= {"loss", "hamiltonian_elbo", "elbo", "kl"} and all(math.isfinite(v) for v in means.values())


def test_the_objective_needs_the_hamiltonian_posterior() -> None:
    with pytest.raises(UserError, match=re.escape("model.posterior=hamiltonian")):
        HamiltonianELBO()(tiny_vae(), Batch(torch.zeros(2, 1, 4, 4)))
    model = tiny_vae(posterior="hamiltonian")  # the part itself trains with the plain ELBO too: it is a Gaussian
    assert torch.isfinite(ELBO()(model, Batch(torch.zeros(2, 1, 4, 4))).loss)


def test_hamiltonian_vae_trains_from_the_cli_and_keeps_its_flow(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The learned ε and β_0 are saved with the model; a loaded model samples and estimates log p(x) with the
    Gaussian q(z_0|x) as the proposal."""
    out = tmp_path / "run"
    args = ["train", "--model", "hamiltonian-vae", "--data", "digits", "--epochs", "1", "--hidden-dims", "16"]
    code, _, err = run_cli(
        [*args, "--latent-dim", "3", "--out", str(out), "--no-progress", "--no-report"], capsys, monkeypatch
    )
    assert code == 0, err
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["monitor"] == "hamiltonian_elbo"  # its bound
    model = vaelab.load(out)
    posterior = model.posterior
    assert isinstance(posterior, HamiltonianPosterior) and posterior.steps == 5
    assert not torch.allclose(posterior.step_size, torch.full((3,), 0.05))  # learned, and restored
    assert posterior.beta0.item() != pytest.approx(0.3, abs=1e-6)
    x = torch.rand(4, 1, 8, 8)
    assert torch.isfinite(model.log_likelihood(x, num_samples=10)).all()
    code, _, err = run_cli(["sample", str(out), "-n", "4", "--out", str(tmp_path / "s.png")], capsys, monkeypatch)
    assert code == 0, err
