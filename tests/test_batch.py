"""The batch and the observation mask: an all-true mask changes nothing bit for bit, unobserved entries count
for nothing, and in a linear-Gaussian model the masked bound at the exact posterior is the exact marginal
likelihood of the observed entries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import tiny_vae
from vaelab.data.batch import Batch, dataset_batches, dataset_rows, stored_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.likelihoods import GaussianLikelihood, Likelihood
from vaelab.models import VAE
from vaelab.objectives import CIWAE, ELBO, IWAE, BetaTCVAE
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import StandardNormalPrior

LIKELIHOOD_CASES = [
    ("bernoulli", {}, 2),
    ("continuous-bernoulli", {}, 5),
    ("gaussian", {}, None),
    ("gaussian", {"gaussian_scale": "decoder"}, None),
    ("categorical", {}, 5),
    ("logistic", {"logistic_components": 2}, 5),
]


def grid_data(levels: int | None, n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if levels is None:
        return torch.randn(n, 1, 4, 4, generator=g)
    return torch.randint(0, levels, (n, 1, 4, 4), generator=g).float() / (levels - 1)


@pytest.mark.parametrize(("likelihood", "options", "levels"), LIKELIHOOD_CASES)
def test_an_all_true_mask_gives_the_unmasked_bounds_bit_for_bit(likelihood, options, levels) -> None:  # type: ignore[no-untyped-def]
    model = tiny_vae(likelihood=likelihood, levels=levels, **options)
    x = grid_data(levels)
    plain, masked = Batch(x), Batch(x, mask=torch.ones_like(x, dtype=torch.bool))
    for objective in (ELBO(), IWAE(num_samples=4), CIWAE(num_samples=3), BetaTCVAE(dataset_size=100)):
        outputs = []
        for batch in (plain, masked):
            torch.manual_seed(3)
            outputs.append(objective(model, batch))
        assert torch.equal(outputs[0].loss, outputs[1].loss)
        for name, value in outputs[0].terms.items():
            assert torch.equal(value, outputs[1].terms[name]), (type(objective).__name__, name)
    torch.manual_seed(4)
    expected = model.log_likelihood(x, num_samples=7)
    torch.manual_seed(4)
    assert torch.equal(model.log_likelihood(masked, num_samples=7), expected)


@pytest.mark.parametrize(("likelihood", "options", "levels"), LIKELIHOOD_CASES)
def test_unobserved_entries_count_for_nothing(likelihood, options, levels) -> None:  # type: ignore[no-untyped-def]
    model = tiny_vae(likelihood=likelihood, levels=levels, **options)
    x = grid_data(levels)
    mask = torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) > 0.4
    with torch.no_grad():
        p_x = model.decode(model.encode(x).sample((2,)))  # batch (2, B)
    elementwise = p_x.base_dist.log_prob(x)  # (2, B, 1, 4, 4)
    expected = (elementwise * mask).flatten(2).sum(-1)
    masked = model.likelihood.log_prob(p_x, x, mask)
    torch.testing.assert_close(masked, expected, rtol=1e-5, atol=1e-4)
    other = torch.where(mask, x, grid_data(levels, seed=9))  # other values where nothing is observed
    assert torch.allclose(model.likelihood.log_prob(p_x, other, mask), masked, rtol=1e-5, atol=1e-4)
    none_observed = model.likelihood.log_prob(p_x, x, torch.zeros_like(mask))
    assert torch.equal(none_observed, torch.zeros_like(none_observed))


def test_a_likelihood_without_masks_refuses_one() -> None:
    class Plain(Likelihood):
        name = "plain"
        params_per_element = 1

        def element_distribution(self, eta: torch.Tensor) -> torch.distributions.Distribution:
            return torch.distributions.Normal(self.split(eta)[0], 1.0)

        def support_problem(self, x: torch.Tensor) -> str | None:
            return None

        def forward(self, eta: torch.Tensor) -> torch.distributions.Distribution:
            return torch.distributions.Independent(self.element_distribution(eta), len(self.data_shape))

    likelihood = Plain((3,))
    p_x = likelihood(torch.zeros(2, 1, 3))
    assert likelihood.log_prob(p_x, torch.zeros(2, 3)).shape == (2,)
    with pytest.raises(UserError, match="cannot score data with unobserved entries"):
        likelihood.log_prob(p_x, torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool))


class _Unflatten(nn.Module):
    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.linear = linear

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.linear(z).unsqueeze(-2)  # (..., 1, d): one parameter per element


def test_masked_bound_at_the_exact_posterior_is_the_exact_marginal_of_the_observed_entries() -> None:
    """p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I) with columns of W on disjoint rows, so that the exact
    posterior given any subset o of the entries, N(Sigma W_o^T (x_o - b_o) / s^2, Sigma) with
    Sigma = (I + W_o^T W_o / s^2)^-1, is diagonal; then log p(x_o, z) - log q(z|x_o) = log p(x_o) for every
    z, and p(x_o) = N(b_o, W_o W_o^T + s^2 I) (Bishop 2006, eqs. 2.113-2.117)."""
    torch.set_default_dtype(torch.float64)
    try:
        d, k, s = 6, 2, 0.6
        w = torch.zeros(d, k)
        w[:3, 0] = torch.tensor([1.2, -0.7, 0.5])
        w[3:, 1] = torch.tensor([0.9, 0.4, -1.1])
        b = torch.linspace(-1.0, 1.0, d)
        observed = torch.tensor([True, False, True, True, True, False])  # one pattern for every row
        w_o = w[observed]
        sigma = torch.linalg.inv(torch.eye(k) + w_o.T @ w_o / s**2)
        assert torch.count_nonzero(sigma - torch.diag(torch.diagonal(sigma))) == 0
        gain = torch.zeros(k, d)
        gain[:, observed] = sigma @ w_o.T / s**2
        posterior = DiagonalGaussianPosterior(d, k, min_scale=1e-6)
        decoder = nn.Linear(k, d)
        with torch.no_grad():
            posterior.linear.weight.zero_()
            posterior.linear.weight[:k] = gain
            posterior.linear.bias[:k] = -gain @ b
            posterior.linear.bias[k:] = torch.log(torch.expm1(torch.sqrt(torch.diagonal(sigma)) - 1e-6))
            decoder.weight.copy_(w)
            decoder.bias.copy_(b)
        model = VAE(
            nn.Identity(),
            posterior,
            StandardNormalPrior(k),
            _Unflatten(decoder),
            GaussianLikelihood((d,), scale=s),
            data_shape=(d,),
            latent_dim=k,
        )
        g = torch.Generator().manual_seed(0)
        x = torch.randn(50, k, generator=g) @ w.T + b + s * torch.randn(50, d, generator=g)
        x[:, ~observed] = 1e3  # whatever stands where nothing was observed
        batch = Batch(x, mask=observed.expand_as(x))
        exact = torch.distributions.MultivariateNormal(b[observed], w_o @ w_o.T + s**2 * torch.eye(int(observed.sum())))
        log_p_observed = exact.log_prob(x[:, observed])  # (50,)
        with torch.no_grad():
            log_w = model(batch, num_samples=20).log_weights()  # (20, 50)
        torch.testing.assert_close(log_w, log_p_observed.expand_as(log_w), rtol=0, atol=1e-9)
        torch.testing.assert_close(model.log_likelihood(batch, num_samples=5), log_p_observed, rtol=0, atol=1e-9)
        elbo = model.elbo(batch, num_samples=4000)  # Monte Carlo over z: log p(x_o) in expectation
        assert (elbo - log_p_observed).abs().max() < 0.2
        unmasked = model.log_likelihood(x, num_samples=5)  # the garbage entries now count
        assert (unmasked - log_p_observed).abs().min() > 1e3
    finally:
        torch.set_default_dtype(torch.float32)


def test_lengths_mark_padding_as_unobserved() -> None:
    x = torch.zeros(3, 4, 2)
    lengths = torch.tensor([4, 2, 0])
    observed = Batch(x, lengths=lengths).observed
    assert observed is not None and observed.shape == x.shape
    assert observed[:, :, 0].tolist() == [[True] * 4, [True, True, False, False], [False] * 4]
    mask = torch.ones_like(x, dtype=torch.bool)
    mask[0, 1, 1] = False
    both = Batch(x, mask=mask, lengths=lengths).observed
    assert both is not None and not both[0, 1, 1] and both[0, 1, 0] and not both[1, 3, 0]
    assert Batch(x).observed is None


def test_rows_and_to_keep_every_field() -> None:
    batch = Batch(
        torch.arange(12.0).reshape(6, 2),
        torch.arange(6),
        labelled=torch.tensor([True, False] * 3),
        mask=torch.ones(6, 2, dtype=torch.bool),
        lengths=torch.full((6,), 2),
    )
    part = batch.rows(2, 5).to("cpu")
    assert len(part) == 3 and part.y is not None and part.y.tolist() == [2, 3, 4]
    assert part.labelled is not None and part.labelled.tolist() == [True, False, True]
    assert part.mask is not None and part.mask.shape == (3, 2) and part.lengths is not None


def test_stored_rows_become_model_space_batches_in_one_place() -> None:
    x = np.arange(24, dtype=np.uint8).reshape(6, 1, 2, 2) % 5
    y = np.arange(6, dtype=np.int64)
    data = ArrayDataset(x, y, 5, "grid", num_classes=6)
    whole = torch.cat([b.x for b in dataset_batches(data, 4, "cpu")])
    assert torch.equal(whole, torch.from_numpy(x).float() / 4)
    picked = dataset_rows(data, np.array([1, 4]), "cpu")
    assert picked.y is not None and picked.y.tolist() == [1, 4]
    assert torch.equal(picked.x, stored_batch(x[[1, 4]], None, 5, "cpu").x)


def test_a_decoder_that_takes_context_sees_the_input() -> None:
    """An autoregressive decoder trained with teacher forcing reads x: ``decoder(z, x)``."""
    seen: list[torch.Tensor] = []

    class ContextDecoder(nn.Module):
        takes_context = True

        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(3, 4)

        def forward(self, z: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
            assert context is not None
            seen.append(context)
            return (self.linear(z) + context).unsqueeze(-2)  # (..., 1, 4): the input shifts the mean

    model = VAE(
        nn.Identity(),
        DiagonalGaussianPosterior(4, 3),
        StandardNormalPrior(3),
        ContextDecoder(),
        GaussianLikelihood((4,), scale=1.0),
        data_shape=(4,),
        latent_dim=3,
    )
    x = torch.randn(5, 4)
    out = ELBO()(model, Batch(x))
    assert len(seen) == 1 and torch.equal(seen[0], x) and torch.isfinite(out.loss)


def test_length_buckets_cover_every_row_once_with_rows_of_similar_length() -> None:
    from vaelab.training.batches import BUCKET_BATCHES, shard_batches

    lengths = torch.randint(1, 60, (3 * BUCKET_BATCHES * 8,))
    generator = torch.Generator().manual_seed(0)
    batches = list(shard_batches(len(lengths), 8, generator, lengths=lengths))
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(len(lengths)))  # each row once
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in batches) / len(batches)
    plain = list(shard_batches(len(lengths), 8, torch.Generator().manual_seed(0)))
    plain_spread = sum(int(lengths[b].max() - lengths[b].min()) for b in plain) / len(plain)
    assert spread < 0.1 * plain_spread  # sorted chunks: a batch's rows differ by a few tokens, not tens
    assert [b.tolist() for b in shard_batches(len(lengths), 8, None, lengths=lengths)] == [
        b.tolist() for b in torch.arange(len(lengths)).split(8)
    ]  # no generator (validation): stored order, no buckets


def test_length_buckets_leave_an_epoch_of_few_batches_as_it_is() -> None:
    from vaelab.training.batches import MIN_CHUNKS, shard_batches

    torch.manual_seed(0)
    lengths = torch.randint(1, 60, (8 * (2 * MIN_CHUNKS - 1),))  # too few batches for chunks of two
    bucketed = shard_batches(len(lengths), 8, torch.Generator().manual_seed(0), lengths=lengths)
    plain = shard_batches(len(lengths), 8, torch.Generator().manual_seed(0))
    assert [b.tolist() for b in bucketed] == [b.tolist() for b in plain]
    lengths = torch.randint(1, 60, (8 * 2 * MIN_CHUNKS,))  # chunks of two batches: each pair sorted by length
    batches = list(shard_batches(len(lengths), 8, torch.Generator().manual_seed(0), lengths=lengths))
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(len(lengths)))
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in batches) / len(batches)
    plain_spread = sum(
        int(lengths[b].max() - lengths[b].min())
        for b in shard_batches(len(lengths), 8, torch.Generator().manual_seed(0))
    ) / len(batches)
    assert spread < 0.7 * plain_spread
