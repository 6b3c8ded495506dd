"""Sampling temperature: each discrete family's tempered probabilities against p^(1/τ) renormalised, the mode at
τ = 0, continuous parts untouched, and TabularVAE's setting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from torch.distributions import Bernoulli, Normal

from vaelab import TabularVAE
from vaelab.data.schema import Feature
from vaelab.distributions import CategoryLayout, ColumnCategoricals, IndexCategorical, tempered
from vaelab.errors import UserError
from vaelab.likelihoods import ColumnsLikelihood, GaussianMixtureLikelihood

torch.set_num_threads(1)


def powered(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """p_k^(1/τ) / sum_j p_j^(1/τ) over the last dimension: the definition the code must meet."""
    weights = probs ** (1 / temperature)
    return weights / weights.sum(-1, keepdim=True)


@pytest.mark.parametrize("temperature", [0.25, 0.5, 2.0])
def test_bernoulli_and_categories_follow_the_powered_probabilities(temperature: float) -> None:
    logits = torch.randn(6, 5)
    p = torch.sigmoid(logits)
    two = torch.stack([1 - p, p], -1)
    torch.testing.assert_close(tempered(Bernoulli(logits=logits), temperature).probs, powered(two, temperature)[..., 1])

    layout = CategoryLayout([3, 2])
    columns = tempered(ColumnCategoricals(logits, layout), temperature)
    for c, (start, stop) in enumerate([(0, 3), (3, 5)]):
        expected = powered(torch.softmax(logits[:, start:stop], -1), temperature)
        values = torch.arange(stop - start, dtype=torch.float32)
        log_p = torch.stack([columns.log_prob(torch.stack([v, v], -1).expand(6, 2))[:, c] for v in values], -1)
        torch.testing.assert_close(log_p.exp(), expected)

    levels = IndexCategorical(logits)
    torch.testing.assert_close(tempered(levels, temperature).probs, powered(levels.probs, temperature))


def test_temperature_zero_takes_the_mode_and_one_is_the_model() -> None:
    logits = torch.randn(40, 5)
    layout = CategoryLayout([3, 2])
    columns = ColumnCategoricals(logits, layout)
    assert tempered(columns, 1.0) is columns
    torch.testing.assert_close(tempered(columns, 0.0).sample((3,)), columns.mean.expand(3, 40, 2))
    levels = IndexCategorical(logits)
    torch.testing.assert_close(tempered(levels, 0.0).sample((3,)), levels.mean.expand(3, 40))
    binary = tempered(Bernoulli(logits=logits), 0.0).sample((3,))
    torch.testing.assert_close(binary, (logits > 0).float().expand(3, 40, 5))
    with pytest.raises(ValueError, match="at least 0"):
        tempered(columns, -0.5)


def test_mixture_takes_its_most_probable_component_and_gaussians_are_untouched() -> None:
    likelihood = GaussianMixtureLikelihood((1,), components=2)
    # one cell: weights 0.3 / 0.7 on components at -10 and +10 with scale about 0.1
    logit_small = torch.log(torch.tensor(0.3 / 0.7))
    eta = torch.tensor([[logit_small], [0.0], [-10.0], [10.0], [-2.0], [-2.0]]).reshape(1, 6, 1)
    mixture = likelihood(eta).base_dist
    draws = tempered(mixture, 0.0).sample((2000,))
    assert bool((draws > 5).all())  # every draw from the +10 component
    assert 0.6 < float((mixture.sample((2000,)) > 5).float().mean()) < 0.8  # the model itself: about 0.7
    gaussian = Normal(torch.zeros(3), torch.ones(3))
    assert tempered(gaussian, 0.0) is gaussian


def test_columns_distribution_tempers_every_discrete_group() -> None:
    features = (
        Feature("height", "continuous"),
        Feature("colour", "categorical", categories=("blue", "green", "red")),
        Feature("smoker", "binary", levels=2),
        Feature("grade", "ordinal", levels=4),
    )
    likelihood = ColumnsLikelihood(features, continuous="gaussian")
    p_x = likelihood(torch.randn(30, *likelihood.param_shape))
    draws = p_x.tempered(0.0).sample((2,))
    mode = p_x.mean.clone()  # a category's and a level's mean is its mode; a 0/1 cell's mean is P(1)
    mode[:, 2] = (mode[:, 2] > 0.5).float()
    torch.testing.assert_close(draws[..., 1:], mode[..., 1:].expand(2, 30, 3))
    assert not torch.equal(draws[0, :, 0], draws[1, :, 0])  # the continuous column is still drawn


def test_tabular_vae_temperature_setting_and_bad_values(tmp_path: Path) -> None:
    rows = 200
    frame = pd.DataFrame(
        {
            "x": torch.randn(rows).numpy(),
            "colour": ["red"] * 150 + ["blue"] * 30 + ["green"] * 20,
        }
    )
    model = TabularVAE(epochs=2, temperature=0.0, random_state=0, validation=0).fit(frame)
    mode_rows = model.sample(300, random_state=1)
    assert mode_rows.equals(model.sample(300, random_state=1, temperature=0.0))
    assert not mode_rows.equals(model.sample(300, random_state=1, temperature=1.0))
    model.save(tmp_path / "model")
    loaded = TabularVAE.load(tmp_path / "model")  # the setting travels with the saved model
    assert loaded.settings.temperature == 0.0 and loaded.sample(300, random_state=1).equals(mode_rows)
    with pytest.raises(UserError, match="temperature must be at least 0"):
        model.sample(5, temperature=-1.0)
    with pytest.raises(UserError, match="temperature must be at least 0"):
        TabularVAE(temperature=-0.1)
