"""IWAE's encoder-gradient estimators (standard, STL, DReG) on the exactly solvable linear-Gaussian model.

Per-draw gradients come from one backward pass over many copies of one example: the gradient of the batch
mean with respect to each copy's posterior outputs (loc, raw scale), times the number of copies, is one
independent draw of that example's gradient. Means are compared within 5 standard errors (a false-alarm
rate below 1e-5 per comparison).
"""

from __future__ import annotations

import pytest
import torch

from helpers import LinearGaussian
from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives import IWAE, MIWAE, Objective

DRAWS = 50_000


def gradient_draws(objective: Objective, model: VAE, x: torch.Tensor, seed: int) -> torch.Tensor:
    """Independent draws (DRAWS, 2k) of the gradient of ``-bound(x)`` w.r.t. the posterior's outputs."""
    outputs: list[torch.Tensor] = []

    def keep(module: torch.nn.Module, inputs: object, output: torch.Tensor) -> None:
        output.retain_grad()
        outputs.append(output)

    handle = model.posterior.linear.register_forward_hook(keep)
    torch.manual_seed(seed)
    objective(model, Batch(x.expand(DRAWS, -1))).loss.backward()
    handle.remove()
    grad = outputs[0].grad
    assert grad is not None
    return grad * DRAWS


def z_scores(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Difference of the two sample means in units of its standard error, per component."""
    return (a.mean(0) - b.mean(0)) / (a.var(0) / len(a) + b.var(0) / len(b)).sqrt()


@pytest.fixture(scope="module")
def shifted() -> tuple[VAE, torch.Tensor]:
    """A wrong posterior (loc shifted by 0.5): the encoder gradient is far from zero."""
    lg = LinearGaussian()
    return lg.vae(posterior_shift=0.5), lg.sample(1)


@pytest.mark.parametrize(
    ("standard", "other"),
    [
        (IWAE(5), IWAE(5, gradient="dreg")),
        (IWAE(5, beta=0.5), IWAE(5, beta=0.5, gradient="dreg")),  # the 1 - beta + beta w~ weighting
        (MIWAE(3, 2), MIWAE(3, 2, gradient="dreg")),  # weights normalised within each of the M bounds
        (IWAE(1), IWAE(1, gradient="stl")),  # STL is unbiased for the ELBO
    ],
    ids=["dreg", "dreg-beta", "miwae-dreg", "stl-elbo"],
)
def test_estimator_is_unbiased_with_lower_variance(
    shifted: tuple[VAE, torch.Tensor], standard: Objective, other: Objective
) -> None:
    model, x = shifted
    a = gradient_draws(standard, model, x, seed=1)
    b = gradient_draws(other, model, x, seed=2)
    assert z_scores(a, b).abs().max() < 5
    loc = slice(0, model.latent_dim)
    assert (a.mean(0)[loc].abs() > 20 * a.std(0)[loc] / DRAWS**0.5).all()  # the test has power
    assert (b.var(0) < a.var(0)).all()


def test_stl_is_biased_for_more_than_one_sample(shifted: tuple[VAE, torch.Tensor]) -> None:
    """Tucker et al. 2019, §3: dropping the score term changes the expectation of the IWAE gradient."""
    model, x = shifted
    a = gradient_draws(IWAE(5), model, x, seed=1)
    b = gradient_draws(IWAE(5, gradient="stl"), model, x, seed=2)
    assert z_scores(a, b).abs().max() > 20


@pytest.mark.parametrize("objective", [IWAE(1, gradient="stl"), IWAE(5, gradient="stl"), IWAE(5, gradient="dreg")])
def test_encoder_gradient_is_exactly_zero_at_the_exact_posterior(objective: Objective) -> None:
    """At the exact posterior every log weight equals log p(x) whatever z: no path gradient is left
    (Roeder et al. 2017, §4), while the standard estimator still carries the noisy score term."""
    lg = LinearGaussian()
    model = lg.vae()
    x = lg.sample(16)
    torch.manual_seed(0)
    objective(model, Batch(x)).loss.backward()
    for parameter in model.posterior.parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() < 1e-10
    model.zero_grad()
    torch.manual_seed(0)
    IWAE(5)(model, Batch(x)).loss.backward()
    assert model.posterior.linear.bias.grad is not None and model.posterior.linear.bias.grad.abs().max() > 1e-3


def test_estimators_share_values_and_decoder_gradients(shifted: tuple[VAE, torch.Tensor]) -> None:
    model, _ = shifted
    x = LinearGaussian().sample(32, seed=3)
    values, decoder_grads = [], []
    for gradient in ("standard", "stl", "dreg"):
        model.zero_grad()
        torch.manual_seed(0)
        out = IWAE(4, gradient=gradient)(model, Batch(x))
        out.loss.backward()
        values.append(out.loss.detach())
        decoder_grads.append(torch.cat([p.grad.flatten() for p in model.decoder_linear.parameters()]))  # type: ignore[union-attr]
    for value, grad in zip(values[1:], decoder_grads[1:], strict=True):
        assert torch.equal(value, values[0])
        assert torch.allclose(grad, decoder_grads[0], atol=1e-12)


def test_dreg_with_one_sample_is_stl(shifted: tuple[VAE, torch.Tensor]) -> None:
    """With K = 1 the normalised weight is 1, so DReG's factor 1 - beta + beta w~ is 1."""
    model, x = shifted
    a = gradient_draws(IWAE(1, gradient="stl"), model, x, seed=4)
    b = gradient_draws(IWAE(1, gradient="dreg"), model, x, seed=4)
    assert torch.allclose(a, b, atol=1e-10)


def test_unknown_estimator_is_a_user_error(shifted: tuple[VAE, torch.Tensor]) -> None:
    model, x = shifted
    with pytest.raises(UserError, match="unknown gradient estimator 'reinforce'"):
        IWAE(2, gradient="reinforce")(model, Batch(x))
