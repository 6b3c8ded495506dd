"""Choosing an imputer's training length on held-out observed cells: which cells are held out, that the kept
weights are the best-scoring ones, and that VAEImputer uses them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vaelab import VAEImputer
from vaelab.applications.imputation.held_out_cells import BestOnHeldOutCells, hide_cells
from vaelab.applications.synthetic.tabular_vae import TabularVAE
from vaelab.errors import UserError

torch.set_num_threads(1)


def incomplete_table(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """Five correlated numeric columns, a three-category column and a 0/1 flag; 30 % of cells missing."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(rows, 2))
    frame = pd.DataFrame(z @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(rows, 5)), columns=list("abcde"))
    frame["group"] = np.where(z[:, 0] > 0.5, "high", np.where(z[:, 0] < -0.5, "low", "mid"))
    frame["flag"] = (z[:, 1] > 0).astype(float)
    return frame.mask(rng.random(frame.shape) < 0.3)


def test_held_out_cells_are_observed_ones_drawn_apart_from_a_mask_of_the_same_seed() -> None:
    values = np.random.default_rng(1).normal(size=(2000, 4))
    hidden_by_caller = np.random.default_rng(0).random(values.shape) < 0.5  # the same seed the imputer uses
    frame = pd.DataFrame(np.where(hidden_by_caller, np.nan, values))
    hidden, held = hide_cells(frame, 0.1, seed=0)
    observed = frame.notna().to_numpy()
    assert not (held & ~observed).any()  # only observed cells are held out
    assert held.sum() / observed.sum() == pytest.approx(0.1, abs=0.01)  # not zero: another random stream
    assert hidden.isna().to_numpy().tolist() == (~observed | held).tolist()


def test_every_column_and_category_keeps_an_observed_cell() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "kind": ["a", "b", "a", None], "flag": [0.0, 1.0, 0.0, 0.0]})
    hidden, held = hide_cells(frame, 0.99, seed=0)  # nearly every cell drawn
    assert held.any()
    for column in frame.columns:
        assert set(hidden[column].dropna()) == set(frame[column].dropna())  # few values: one of each kept


def test_the_kept_weights_are_those_of_the_best_check() -> None:
    frame = incomplete_table()
    hidden, held = hide_cells(frame, 0.1, seed=0)
    tabular = TabularVAE(hidden_dims=(16,), latent_dim=2, epochs=40, batch_size=64, validation=0.0, conditional=False)
    scores: list[float] = []
    best = BestOnHeldOutCells(tabular, frame, hidden, held, every=10)
    tabular.fit(hidden, callbacks=[best, lambda record: scores.append(best.best_score)])
    assert best.best_step > 0 and best.best_score == max(scores)
    best.restore()
    assert best.score() == pytest.approx(best.best_score, abs=1e-6)  # the same seeded estimate, the kept weights


def test_the_imputer_trains_on_the_other_cells_and_keeps_observed_cells() -> None:
    frame = incomplete_table()
    options = {"hidden_dims": (16,), "latent_dim": 2, "steps": 300, "num_samples": 50, "random_state": 0}
    imputer = VAEImputer(held_out_cells=0.1, **options).fit(frame)
    assert imputer.best_step_ is not None and 0 < imputer.best_step_ <= 300
    filled = imputer.transform(frame)
    observed = frame.notna()
    assert filled[observed].equals(frame[observed]) and not filled.isna().any().any()
    assert VAEImputer(**options).fit(frame).best_step_ is None  # without held-out cells: the last weights


@pytest.mark.parametrize("share", [-0.1, 1.0])
def test_a_held_out_share_outside_zero_to_one_is_one_line(share: float) -> None:
    with pytest.raises(UserError, match=r"held_out_cells must be a share in \[0, 1\)"):
        VAEImputer(held_out_cells=share, steps=10).fit(incomplete_table(40))
