"""Planar and IAF flow posteriors: the log-density equals the change of variables with the autograd
Jacobian, the density is normalised, the flows are invertible / autoregressive as claimed, foreign points
are refused, and the ``planar`` / ``iaf`` presets work end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch.distributions import Independent, Normal

from helpers import tiny_vae
from test_priors import (
    binary_batch,
    check_gradients_reach_every_parameter,
    check_iwae_not_below_elbo,
    check_round_trip,
    train_through_cli,
)
from vaelab.data.batch import Batch
from vaelab.distributions import FlowDistribution
from vaelab.errors import UserError
from vaelab.objectives import ELBO
from vaelab.posteriors import FlowPosterior, IAFPosterior, IAFStep, PlanarPosterior, PlanarStep

FLOWS = {"planar": PlanarPosterior, "iaf": IAFPosterior}


def _flow_head(name: str, latent_dim: int = 3, in_features: int = 5, seed: int = 0) -> FlowPosterior:
    """A float64 flow head whose steps are far from the identity (every step weight drawn from N(0, 0.5²))."""
    torch.manual_seed(seed)
    head = FLOWS[name](in_features, latent_dim, num_steps=3).double()
    with torch.no_grad():
        for step in head.steps:
            for parameter in step.parameters():
                parameter.normal_(0, 0.5)
    return head


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_log_density_is_the_change_of_variables_with_the_autograd_jacobian(name: str) -> None:
    head = _flow_head(name)
    h = torch.randn(4, 5, dtype=torch.float64)
    q_z = head(h)
    torch.manual_seed(1)
    z = q_z.rsample((2,))  # (S, B, D)
    torch.manual_seed(1)
    z_0 = q_z.base.rsample((2,))  # the same base draws
    log_q = q_z.log_prob(z)
    assert log_q.shape == (2, 4)
    for s in range(2):
        for b in range(4):
            jacobian = torch.autograd.functional.jacobian(lambda v, b=b: head.flow(h[b], v)[0], z_0[s, b])  # (D, D)
            assert torch.allclose(head.flow(h[b], z_0[s, b])[0], z[s, b])
            log_q_0 = Normal(q_z.base.base_dist.loc[b], q_z.base.base_dist.scale[b]).log_prob(z_0[s, b]).sum()
            expected = log_q_0 - torch.linalg.slogdet(jacobian).logabsdet
            assert torch.allclose(log_q[s, b], expected, atol=1e-10)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_flow_density_is_normalised(name: str) -> None:
    """E_q[r(z) / q(z)] = ∫ r = 1 for a normalised r (importance sampling with q as the proposal); r is
    narrower than q so the ratio has finite variance. Within 5 standard errors (false alarm < 1e-6)."""
    head = _flow_head(name, latent_dim=2)
    q_z = head(torch.randn(3, 5, dtype=torch.float64))
    torch.manual_seed(2)
    with torch.no_grad():
        pilot = q_z.sample((10_000,))  # an independent draw places r: narrower than q, at its median
        r = Independent(Normal(pilot.median(0).values, 0.4 * pilot.std(0)), 1)
        z = q_z.sample((200_000,))  # (N, B, D)
        log_q = q_z.log_prob(z)
    ratio = (r.log_prob(z) - log_q).exp()  # (N, B)
    stderr = ratio.std(0) / math.sqrt(len(ratio))
    assert torch.all((ratio.mean(0) - 1).abs() < 5 * stderr + 1e-3), (ratio.mean(0), stderr)
    torch.manual_seed(2)
    q_z.base.sample((10_000,))
    log_det = q_z.base.log_prob(q_z.base.sample((200_000,))) - log_q  # the same base draws as z
    assert log_det.abs().mean() > 0.1  # the flow is far from the identity, so the test has teeth


def test_planar_step_stays_invertible_for_any_parameters() -> None:
    """With wᵀu far below -1 the raw map folds; û (appendix A.1) keeps wᵀf(z) increasing along w."""
    torch.manual_seed(0)
    step = PlanarStep(in_features=1, latent_dim=2).double()
    with torch.no_grad():
        step.params.weight.zero_()
        step.params.bias.copy_(torch.tensor([-5.0, 0.0, 1.0, 0.0, 0.3], dtype=torch.float64))  # u, w, b: wᵀu = -5
    h = torch.zeros(1, 1, dtype=torch.float64)
    t = torch.linspace(-6, 6, 2001, dtype=torch.float64)
    z = torch.stack([t, torch.zeros_like(t)], -1).unsqueeze(1)  # (T, 1, 2): a line along w
    f, log_det = step(z, h)
    assert torch.all(torch.diff(f[:, 0, 0]) > 0)
    assert torch.isfinite(log_det).all()


@pytest.mark.parametrize("reverse", [False, True])
def test_iaf_step_is_autoregressive_with_the_sum_of_log_gates_as_log_det(reverse: bool) -> None:
    torch.manual_seed(0)
    step = IAFStep(in_features=3, latent_dim=4, reverse=reverse).double()
    h = torch.randn(3, dtype=torch.float64)
    z = torch.randn(4, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda v: step(v, h)[0], z)  # (D, D)
    triangular = jacobian.flip(0, 1) if reverse else jacobian
    assert torch.equal(triangular, triangular.tril())  # output i depends on z_j for j <= i in the order
    assert torch.allclose(step(z, h)[1], torch.linalg.slogdet(jacobian).logabsdet, atol=1e-12)


def test_flow_density_is_refused_at_points_it_did_not_sample() -> None:
    q_z = _flow_head("planar")(torch.randn(4, 5, dtype=torch.float64))
    with pytest.raises(UserError, match="only at its own samples"):
        q_z.log_prob(torch.zeros(4, 3, dtype=torch.float64))
    z = q_z.rsample((2,))
    for foreign in (z.clone(), z.detach(), q_z.rsample((2,)).clone()):
        with pytest.raises(UserError, match="only at its own samples"):
            q_z.log_prob(foreign)


def test_flow_mean_is_the_flow_of_the_base_mean() -> None:
    head = _flow_head("iaf")
    h = torch.randn(4, 5, dtype=torch.float64)
    q_z = head(h)
    assert isinstance(q_z, FlowDistribution)
    assert torch.allclose(q_z.mean, head.flow(h, q_z.base.mean)[0])
    assert q_z.batch_shape == (4,) and q_z.event_shape == (3,)


def test_free_bits_with_a_flow_posterior_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs a factorised"):
        ELBO(free_bits=0.5)(tiny_vae(preset="planar"), Batch(binary_batch()))


@pytest.mark.parametrize("preset", sorted(FLOWS))
def test_flow_presets_train_bound_and_round_trip(preset: str, tmp_path: Path) -> None:
    model = tiny_vae(preset=preset, flow_steps=2)
    assert isinstance(model.posterior, FLOWS[preset]) and len(model.posterior.steps) == 2
    check_gradients_reach_every_parameter(model)
    check_iwae_not_below_elbo(model)
    check_round_trip(model, tmp_path / "saved")


@pytest.mark.parametrize(
    "args",
    [
        ["--model", "planar"],
        ["--model", "iaf", "--set", "model.flow_steps=2", "--set", "objective.name=iwae"],
        ["--model", "cvae", "--set", "model.posterior=iaf"],  # a conditional flow posterior
    ],
)
def test_flow_presets_train_through_the_cli(args: list[str], tmp_path: Path) -> None:
    # The latent diagnostics score q at other examples' codes, which a flow cannot: likelihood figures only.
    train_through_cli(tmp_path / "run", *args, metrics="likelihood")
