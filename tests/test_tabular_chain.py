"""The sampling chain z ~ q(z | x, y), x ~ p(x | z, y) (Rezende et al. 2014, §5.2): ``VAE.chain`` against the
linear-Gaussian model's exact answers, and TabularVAE's ``chain_steps`` (none by default; steps keep what the
condition gives; the setting round-trips; bad values are user errors)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import LinearGaussian
from vaelab import TabularVAE
from vaelab.errors import UserError

torch.set_num_threads(1)


def test_with_the_exact_posterior_the_chain_samples_the_marginal() -> None:
    """Linear-Gaussian model with its exact posterior: the chain is a Gibbs sampler of p(x, z), so rows started
    far off end with p(x)'s mean b and covariance W W^T + sigma^2 I (Bishop 2006, eq. 12.35)."""
    model_of = LinearGaussian()
    model = model_of.vae()
    torch.manual_seed(0)
    start = model_of.b + 5.0 + torch.zeros(20_000, model_of.data_dim, dtype=torch.float64)
    with torch.inference_mode():
        rows = model.chain(start, None, 60, lambda z: model.decode(z).sample())
    torch.testing.assert_close(rows.mean(0), model_of.b, atol=0.04, rtol=0)
    covariance = model_of.W @ model_of.W.T + model_of.sigma**2 * torch.eye(model_of.data_dim, dtype=torch.float64)
    torch.testing.assert_close(torch.cov(rows.T), covariance, atol=0.06, rtol=0)


def test_with_a_shifted_encoder_the_chain_settles_where_the_encoder_leads() -> None:
    """Pseudo-Gibbs is not exact: an encoder whose means are off by s settles the codes' mean at
    m = G W m + s, i.e. m = (1 + lambda) s with lambda = diag(W^T W) / sigma^2 (W's columns are orthogonal),
    so the rows' mean at b + W m."""
    model_of = LinearGaussian()
    shift = 0.3
    model = model_of.vae(posterior_shift=shift)
    torch.manual_seed(1)
    start = model_of.b + torch.zeros(20_000, model_of.data_dim, dtype=torch.float64)
    with torch.inference_mode():
        rows = model.chain(start, None, 60, lambda z: model.decode(z).sample())
    lam = torch.diagonal(model_of.W.T @ model_of.W) / model_of.sigma**2
    torch.testing.assert_close(rows.mean(0), model_of.b + model_of.W @ ((1 + lam) * shift), atol=0.05, rtol=0)


def sign_table(n: int = 400) -> pd.DataFrame:
    """``c`` is ``"hi"`` exactly where ``a > 0``; ``b`` follows ``a``."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": 2 * a + rng.normal(scale=0.1, size=n), "c": np.where(a > 0, "hi", "lo")})


@pytest.fixture(scope="module")
def short_fit() -> TabularVAE:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit may trail the marginals
        return TabularVAE(epochs=30, random_state=0, threads=1).fit(sign_table())


def test_no_steps_is_the_default_and_steps_resample_the_rows(short_fit: TabularVAE) -> None:
    assert short_fit.settings.chain_steps == 0
    plain = short_fit.sample(500, random_state=1)
    pd.testing.assert_frame_equal(short_fit.sample(500, random_state=1, chain_steps=0), plain)
    chained = short_fit.sample(500, random_state=1, chain_steps=3)
    assert (chained["a"] != plain["a"]).all()
    assert list(chained.columns) == ["a", "b", "c"] and chained.dtypes.equals(plain.dtypes)


def test_steps_keep_the_given_category(short_fit: TabularVAE) -> None:
    conditioned = short_fit.sample(500, conditions={"c": "hi"}, random_state=2, chain_steps=2)
    assert (conditioned["c"] == "hi").all()


def test_the_setting_round_trips_and_bad_values_are_user_errors(short_fit: TabularVAE, tmp_path) -> None:
    with pytest.raises(UserError, match="chain_steps must be at least 0"):
        TabularVAE(chain_steps=-1)
    with pytest.raises(UserError, match="chain_steps must be at least 0"):
        short_fit.sample(10, chain_steps=-2)
    short_fit.save(tmp_path / "plain")
    chained = TabularVAE.load(tmp_path / "plain")  # a copy: the module's fit keeps its settings
    chained.settings = dataclasses.replace(chained.settings, chain_steps=2)
    chained.save(tmp_path / "chained")
    loaded = TabularVAE.load(tmp_path / "chained")
    assert loaded.settings.chain_steps == 2
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=4), chained.sample(300, random_state=4))
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=4), loaded.sample(300, random_state=4, chain_steps=2))
