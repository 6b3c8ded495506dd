"""A Gaussian mixture with an atom: its probabilities and densities, draws, temperature, and the table parts
built on it (the columns likelihood's atoms, the marginals they are compared with)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from vaelab.data.schema import Feature, feature_dict, feature_from_dict
from vaelab.data.table_columns import decode_columns, encode_columns, fit_features, mode_code
from vaelab.distributions import AtomGaussianMixture, tempered
from vaelab.evaluation.table_marginals import marginal_log_likelihood
from vaelab.likelihoods.columns import ATOM_TOLERANCE, ColumnsLikelihood, atom_tolerances, continuous_atoms
from vaelab.likelihoods.gaussian_mixture import GaussianMixtureLikelihood

torch.set_num_threads(1)


def two_elements() -> AtomGaussianMixture:
    """Element 0: atom at 0 with probability 0.3 and two Gaussians; element 1: no atom."""
    log_weights = torch.tensor([[0.5, 0.2, 0.3], [0.6, 0.4, 0.0]]).log()
    loc = torch.tensor([[-1.0, 2.0], [0.0, 3.0]])
    scale = torch.tensor([[0.5, 1.0], [1.0, 0.2]])
    return AtomGaussianMixture(log_weights, loc, scale, torch.tensor([0.0, math.nan]))


def test_the_atom_has_its_probability_and_other_values_the_mixture_density() -> None:
    p = two_elements()
    x = torch.tensor([0.0, 0.0])
    log_p = p.log_prob(x)
    assert log_p[0].item() == pytest.approx(math.log(0.3))
    density = (
        0.6 * Normal(0.0, 1.0).log_prob(torch.tensor(0.0)).exp()
        + 0.4 * Normal(3.0, 0.2).log_prob(torch.tensor(0.0)).exp()
    )
    assert log_p[1].item() == pytest.approx(math.log(density.item()), rel=1e-5)
    near = p.log_prob(torch.tensor([1e-4, 1e-4]))[0].item()  # beside the atom: the Gaussians' density only
    expected = (
        0.5 * Normal(-1.0, 0.5).log_prob(torch.tensor(1e-4)).exp()
        + 0.2 * Normal(2.0, 1.0).log_prob(torch.tensor(1e-4)).exp()
    )
    assert near == pytest.approx(math.log(expected.item()), rel=1e-5)


def test_atom_and_density_add_up_to_one() -> None:
    p = two_elements()
    grid = torch.linspace(-12.0, 12.0, 240_001)  # the atom at 0 is a grid point: leave it out of the integral
    values = torch.stack([grid, grid], dim=-1)
    density = p.log_prob(values).exp()
    off_atom = grid != 0
    integral = torch.trapezoid(density[off_atom], grid[off_atom], dim=0)
    assert integral[0].item() + 0.3 == pytest.approx(1.0, abs=1e-4)
    assert integral[1].item() == pytest.approx(1.0, abs=1e-4)


def test_draws_take_the_atom_as_often_as_its_weight_and_temperature_zero_the_mode() -> None:
    torch.manual_seed(0)
    p = two_elements()
    draws = p.sample((20_000,))  # (20000, 2)
    assert (draws[:, 0] == 0).float().mean().item() == pytest.approx(0.3, abs=0.015)
    assert (draws[:, 1] == 0).sum().item() == 0  # no atom: never exactly 0
    assert draws[:, 0].mean().item() == pytest.approx(p.mean[0].item(), abs=0.03)
    mode = tempered(p, 0.0)
    assert isinstance(mode, AtomGaussianMixture)
    first = mode.sample((500,))
    assert ((first[:, 0] - (-1.0)).abs() < 3).all()  # element 0's most probable choice: the Gaussian at -1
    certain = AtomGaussianMixture(
        torch.tensor([[0.1, 0.1, 0.8]]).log(), torch.zeros(1, 2), torch.ones(1, 2), torch.tensor([5.0])
    )
    assert (tempered(certain, 0.0).sample((100,)) == 5.0).all()


def test_a_mixture_likelihood_with_atoms_takes_one_more_logit_per_element() -> None:
    plain = GaussianMixtureLikelihood((2,), components=3)
    atoms = GaussianMixtureLikelihood((2,), components=3, atoms=[0.5, math.nan])
    assert plain.param_shape == (9, 2) and atoms.param_shape == (10, 2)
    eta = torch.randn(4, 10, 2)
    x = torch.tensor([[0.5, 0.5]]).expand(4, 2)
    log_p = atoms(eta).base_dist.log_prob(x)  # (4, 2)
    atom_logit = eta[:, 9, 0]
    log_norm = torch.logsumexp(eta[:, [0, 1, 2, 9], 0], dim=-1)
    torch.testing.assert_close(log_p[:, 0], atom_logit - log_norm)
    # the element without an atom ignores its last logit: it is the plain mixture of the first 9 parameters
    torch.testing.assert_close(log_p[:, 1], plain(eta[:, :9]).base_dist.log_prob(x)[:, 1])


def test_columns_atoms_are_frequent_values_that_match_the_encoded_rows_exactly() -> None:
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(500) < 0.9, 0, rng.integers(1, 20_000, 500)).astype(float)
    columns = {"gain": gain, "x": rng.normal(size=500) * 3.7 + 1.1, "hours": np.full(500, 40.0)}
    columns["hours"][:100] = rng.integers(1, 99, 100)
    features = fit_features(columns)
    assert features[0].mode == 0.0 and features[0].mode_share == pytest.approx((gain == 0).mean())
    assert features[1].mode_share == pytest.approx(1 / 500)  # all values distinct
    atoms = continuous_atoms(features, 0.05)
    assert atoms is not None and math.isnan(atoms[1]) and continuous_atoms(features, None) is None
    x = torch.from_numpy(encode_columns(columns, features))
    assert (x[:, 0] == atoms[0]).sum().item() == (gain == 0).sum()
    assert (x[:, 2] == atoms[2]).sum().item() == (columns["hours"] == 40).sum()
    assert math.isnan(continuous_atoms(features, 0.95)[0])  # 90 % zeros: below a 95 % threshold
    tolerances = atom_tolerances(features)
    assert tolerances[0] == min(ATOM_TOLERANCE, 0.49 / features[0].scale)
    beside = torch.tensor([atoms[0] + 1e-7, atoms[0] + 1 / features[0].scale])  # a float32 step off; one dollar off
    mixture = GaussianMixtureLikelihood((1,), components=2, atoms=[atoms[0]], atom_tolerances=[tolerances[0]])
    cells = mixture(torch.zeros(2, 7, 1)).base_dist
    assert cells.log_prob(beside[:, None])[0, 0].item() == pytest.approx(math.log(1 / 3))  # the atom's weight
    assert cells.log_prob(beside[:, None])[1, 0].item() != pytest.approx(math.log(1 / 3))  # a density
    likelihood = ColumnsLikelihood(features, atom_share=0.05)
    log_p = likelihood(torch.zeros(500, *likelihood.param_shape)).log_prob(x)
    assert torch.isfinite(log_p).all()
    with pytest.raises(ValueError, match="atom_share needs continuous='mixture'"):
        ColumnsLikelihood(features, continuous="gaussian", atom_share=0.05)


def test_features_keep_their_mode_through_json_and_old_dicts_lack_it() -> None:
    feature = Feature("gain", "continuous", loc=600.0, scale=7000.0, integer=True, mode=0.0, mode_share=0.9)
    assert feature_from_dict(feature_dict(feature)) == feature
    old = {k: v for k, v in feature_dict(feature).items() if k not in ("mode", "mode_share")}
    assert feature_from_dict(old).mode is None and feature_from_dict(old).mode_share == 0.0


def test_marginals_score_an_atom_by_its_share_and_other_values_by_a_gaussian_of_the_rest() -> None:
    train_values = np.array([0.0] * 8 + [1.0, 3.0], dtype=np.float32)
    feature = Feature("gain", "continuous", mode=0.0, mode_share=0.8)
    train, test = train_values[:, None], np.array([[0.0], [2.0]], dtype=np.float32)
    share = (8 + 1) / (10 + 2)
    log_p = marginal_log_likelihood(train, test, [feature], atom_share=0.5)
    assert log_p[0] == pytest.approx(math.log(share))
    rest = Normal(2.0, 1.0).log_prob(torch.tensor(2.0)).item()  # the Gaussian of 1 and 3: mean 2, sd 1
    assert log_p[1] == pytest.approx(math.log(1 - share) + rest, rel=1e-6)
    plain = marginal_log_likelihood(train, test, [feature])  # no atom_share: the Gaussian of all values
    gaussian = Normal(float(train_values.mean()), float(train_values.std()))
    assert plain[1] == pytest.approx(gaussian.log_prob(torch.tensor(2.0)).item(), rel=1e-5)


def test_the_code_of_a_fractional_columns_mode_decodes_to_the_mode_exactly() -> None:
    """0.1 scaled to model space and back is 0.1 only to a rounding error; the atom's draws must come back as the
    column's own value, or a test of shapes sees none of them (a KS statistic of the whole spike)."""
    values = np.array([0.1] * 60 + [0.37, 1.93, 2.51, 0.84] * 10)
    features = fit_features({"rate": values})
    assert features[0].mode == 0.1 and not features[0].integer
    code = encode_columns({"rate": np.array([0.1])}, features)
    assert code[0, 0] == mode_code(features[0])
    assert decode_columns(code, features)["rate"][0] == 0.1
    others = decode_columns(encode_columns({"rate": np.array([0.37])}, features), features)["rate"][0]
    assert others == pytest.approx(0.37, rel=1e-6)  # any other value: as scaled, to float32 precision
