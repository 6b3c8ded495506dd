"""The hierarchical VAE: top-down q and p against the closed form of a linear-Gaussian two-layer model,
the top-down networks shared (held once) by q and p, deeper hierarchies, the VampPrior on the top layer,
and the ``hvae`` / ``hvae-vamp`` presets end to end."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Independent, MultivariateNormal, Normal

from helpers import tiny_vae
from test_priors import (
    check_gradients_reach_every_parameter,
    check_iwae_not_below_elbo,
    check_round_trip,
    train_error,
    train_through_cli,
    write_images,
)
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.distributions import TopDownChain
from vaelab.posteriors import LadderPosterior
from vaelab.priors import HierarchicalPrior, StandardNormalPrior, VampPrior

SMALL = ["--set", "model.prior_components=8"]


class LinearGaussian(nn.Module):
    """p(z_1 | z_2) = N(A z_2 + c, diag(s²)): with it the two-layer model is jointly Gaussian."""

    def __init__(self, a: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> None:
        super().__init__()
        self.a, self.c, self.s = a, c, s

    def forward(self, z_above: torch.Tensor) -> Independent:
        return Independent(Normal(z_above @ self.a.T + self.c, self.s), 1)


def _joint(
    mean_1: torch.Tensor, gain: torch.Tensor, var_1: torch.Tensor, mean_2: torch.Tensor, var_2: torch.Tensor
) -> MultivariateNormal:
    """The Gaussian of (z_1, z_2) when z_2 ~ N(mean_2, diag var_2), z_1 | z_2 ~ N(mean_1 + gain z_2, diag var_1)."""
    cov_2 = torch.diag(var_2)
    cov = torch.cat(
        [
            torch.cat([gain @ cov_2 @ gain.T + torch.diag(var_1), gain @ cov_2], 1),
            torch.cat([cov_2 @ gain.T, cov_2], 1),
        ]
    )
    return MultivariateNormal(torch.cat([mean_1 + gain @ mean_2, mean_2]), cov)


def _check_against_closed_form(chain: TopDownChain, joint: MultivariateNormal, seed: int) -> None:
    """Exact log-density at arbitrary points; ancestral samples' mean and covariance within 5 standard errors."""
    torch.manual_seed(seed)
    points = 2 * torch.randn(50, 5, dtype=torch.float64)
    assert torch.allclose(chain.log_prob(points), joint.log_prob(points), atol=1e-10)
    z = chain.sample((200_000,)).reshape(200_000, 5)  # (N, 5) whatever the chain's batch shape (1 or none)
    assert torch.all((z.mean(0) - joint.mean).abs() < 5 * z.std(0) / math.sqrt(len(z)))
    centred = z - joint.mean
    products = centred.unsqueeze(-1) * centred.unsqueeze(-2)  # (N, 5, 5)
    stderr = products.std(0) / math.sqrt(len(z))
    assert torch.all((products.mean(0) - joint.covariance_matrix).abs() < 5 * stderr)


def test_linear_gaussian_ladder_matches_the_closed_form() -> None:
    """p: z_2 ~ N(0, I), z_1 | z_2 ~ N(A z_2 + c, s²). q: z_2 ~ N(μ̂_2, σ̂_2), z_1 | z_2 the precision-weighted
    product of N(μ̂_1, σ̂_1) and p(z_1 | z_2), i.e. N(a + G z_2, σ_q²) with σ_q² = 1/(σ̂_1⁻² + s⁻²),
    G = σ_q² s⁻² A, a = σ_q² (μ̂_1 σ̂_1⁻² + c s⁻²) (Sønderby et al. 2016)."""
    torch.manual_seed(0)
    posterior = LadderPosterior(in_features=4, sizes=[3, 2]).double()
    a, c, s = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, dtype=torch.float64), torch.rand(3).double() + 0.5
    posterior.top_down[0] = LinearGaussian(a, c, s)
    prior = HierarchicalPrior(StandardNormalPrior(2).double(), posterior.top_down, posterior.sizes)
    _check_against_closed_form(prior(), _joint(c, a, s**2, torch.zeros(2).double(), torch.ones(2).double()), 1)

    h = torch.randn(1, 4, dtype=torch.float64)
    ladder_1, ladder_2 = (Normal(e.loc[0], e.scale[0]) for e in posterior.ladder_estimates(h))
    var_q = 1 / (ladder_1.scale**-2 + s**-2)
    gain = (var_q / s**2).unsqueeze(-1) * a
    mean_1 = var_q * (ladder_1.loc / ladder_1.scale**2 + c / s**2)
    joint = _joint(mean_1, gain, var_q, ladder_2.loc, ladder_2.scale**2)
    q_z = posterior(h)  # batch (1,)
    assert q_z.batch_shape == (1,) and q_z.event_shape == (5,)
    _check_against_closed_form(q_z, joint, 2)
    torch.manual_seed(3)
    z = q_z.rsample((4,))  # (S, 1, 5): the distribution itself, batched
    assert torch.allclose(q_z.log_prob(z), joint.log_prob(z), atol=1e-10)


def test_top_down_chain_rejects_mismatched_layers() -> None:
    top = Independent(Normal(torch.zeros(2), 1.0), 1)
    with pytest.raises(ValueError, match="needs 1 conditionals and a top with event shape"):
        TopDownChain(top, [], [3, 2])
    with pytest.raises(ValueError, match="at least two latent layers"):
        LadderPosterior(4, [3])


def test_prior_and_posterior_share_the_top_down_networks() -> None:
    model = tiny_vae(preset="hvae")  # latent_dim 3 -> layers [2, 1]
    assert isinstance(model.posterior, LadderPosterior) and isinstance(model.prior, HierarchicalPrior)
    assert model.posterior.sizes == (2, 1)
    assert all(p is q for p, q in zip(model.prior._conditionals, model.posterior.top_down, strict=True))
    assert not [k for k in model.state_dict() if k.startswith("prior.")]  # stored once, under posterior.
    clone = copy.deepcopy(model)
    assert all(p is q for p, q in zip(clone.prior._conditionals, clone.posterior.top_down, strict=True))


def test_three_layers_sample_from_the_top() -> None:
    config = ModelConfig(
        preset="hvae", latent_dim=6, hierarchy=[3, 2, 1], hidden_dims=[16], network="mlp", likelihood="bernoulli"
    )
    data = ArrayDataset(np.zeros((2, 1, 4, 4), np.uint8), None, 2, "tiny")
    model = build_model(model_spec(config, data))
    assert model.posterior.sizes == (3, 2, 1) and len(model.posterior.top_down) == 2
    torch.manual_seed(0)
    p_z = model.p_z()
    z = p_z.sample((7,))
    assert z.shape == (7, 6) and p_z.log_prob(z).shape == (7,)
    q_z = model.encode(torch.zeros(4, 1, 4, 4))
    assert q_z.rsample((2,)).shape == (2, 4, 6) and q_z.mean.shape == (4, 6)
    assert model.sample(5).shape == (5, 1, 4, 4)
    check_iwae_not_below_elbo(model)


def test_vamp_prior_on_the_top_layer() -> None:
    model = tiny_vae(preset="hvae-vamp", prior_components=4)
    top = model.prior.top
    assert isinstance(top, VampPrior)
    assert top._posterior == model.posterior.top_posterior and top._encoder is model.encoder
    z = torch.randn(6, 3)
    q_u = model.posterior.top_posterior(model.encoder(top.pseudo_inputs))  # batch (K,), event (1,)
    expected = torch.logsumexp(q_u.log_prob(z[:, 2:].unsqueeze(1)), dim=1) - math.log(4)  # z_L = the last unit
    assert torch.allclose(top().log_prob(z[:, 2:]), expected, atol=1e-5)
    with_layers = model.p_z().log_prob(z) - model.prior._conditionals[0](z[:, 2:]).log_prob(z[:, :2])
    assert torch.allclose(with_layers, expected, atol=1e-5)


@pytest.mark.parametrize("preset", ["hvae", "hvae-vamp"])
def test_hierarchical_presets_train_bound_and_round_trip(preset: str, tmp_path: Path) -> None:
    model = tiny_vae(preset=preset, prior_components=5)
    check_gradients_reach_every_parameter(model)
    check_iwae_not_below_elbo(model)
    loaded = check_round_trip(model, tmp_path / "saved")
    assert loaded.prior._conditionals[0] is loaded.posterior.top_down[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--model", "hvae"],
        ["--model", "hvae", "--set", "model.prior=vamp", *SMALL],  # Tomczak & Welling's HVAE + VampPrior
        ["--model", "hvae", "--set", "model.prior=mog", "--set", "objective.name=iwae", *SMALL],
    ],
)
def test_hierarchical_presets_train_through_the_cli(args: list[str], tmp_path: Path) -> None:
    figures = train_through_cli(tmp_path / "run", *args)  # including the latent diagnostics
    assert math.isfinite(figures["mutual_information"])


def test_hvae_vamp_with_iwae_conv_networks_and_logistic_likelihood(tmp_path: Path) -> None:
    images = write_images(tmp_path / "blobs.npz")
    train_through_cli(
        tmp_path / "run",
        *("--model", "hvae-vamp", "--data", str(images), "--network", "conv", "--likelihood", "logistic"),
        *("--set", "objective.name=iwae", "--num-samples", "3", "--set", "model.hierarchy=[2,2]", *SMALL),
        *("--set", "model.network.channels=[8,8]", "--set", "model.network.hidden=32"),
    )


def test_bad_hierarchies_are_one_line_errors(tmp_path: Path) -> None:
    assert "sums to 5 but model.latent_dim is 4" in train_error(
        tmp_path, "--model", "hvae", "--set", "model.hierarchy=[3,2]"
    )
    assert "latent_dim >= 2" in train_error(tmp_path, "--model", "hvae", "--latent-dim", "1")
