"""M2 (Kingma et al. 2014): its bounds against explicit per-class computations, the objective, labels missing for
some rows in files and batches, the labelled rows in every batch, and saving."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import vaelab
from vaelab.config.build import model_spec
from vaelab.data.batch import stored_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.data.semi_supervised import UNLABELLED, check_class_labels, keep_labelled
from vaelab.errors import UserError
from vaelab.models.build import build_model
from vaelab.models.label_bounds import label_bounds, marginal_log_likelihood
from vaelab.models.spec import ModelConfig
from vaelab.objectives.m2 import M2
from vaelab.training.batches import InMemoryBatches, LabelledRows

K = 3


def _data(n: int = 60, labelled: int = 12, seed: int = 0) -> ArrayDataset:
    """Binary rows (N, 16) of K classes whose first rows carry labels, the rest -1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    x = (rng.random((n, 16)) < 0.2 + 0.2 * y[:, None]).astype(np.uint8)
    y[labelled:] = UNLABELLED
    return ArrayDataset(x, y.astype(np.int64), 2, "toy", K)


def _model(data: ArrayDataset) -> vaelab.VAE:
    torch.manual_seed(0)
    config = ModelConfig(preset="m2", latent_dim=2, network={"name": "mlp", "hidden_dims": [8]})
    return build_model(model_spec(config, data)).eval()


def _batch(data: ArrayDataset):
    return stored_batch(data.x, data.y, data.levels, "cpu")


def test_labelled_rows_are_scored_with_their_class_and_the_others_with_every_class() -> None:
    data = _data()
    model, batch = _model(data), _batch(data)
    assert batch.labelled is not None and int(batch.labelled.sum()) == 12
    bounds = label_bounds(model, batch)
    terms = bounds.terms
    torch.testing.assert_close(terms["elbo"], terms["reconstruction"] - terms["kl"])
    log_k = math.log(K)
    with torch.no_grad():
        q_y = model.q_y(batch.x).probs  # (B, K)
        kl_z = torch.stack(
            [
                torch.distributions.kl_divergence(model.encode(batch.x, torch.full((len(batch),), k)), model.p_z())
                for k in range(K)
            ],
            dim=1,
        )  # (B, K): closed-form KL of q(z|x, k) from the prior
    known = batch.labelled
    assert batch.y is not None
    # labelled rows: KL(q(z|x, y) || p(z)) - log p(y), p(y) = 1/K
    torch.testing.assert_close(terms["kl"][known], kl_z[known, batch.y[known]] + log_k)
    # unlabelled rows: E_q(y|x) KL_z + KL(q(y|x) || p(y))
    unknown = ~known
    kl_y = (q_y * (q_y.log() + log_k)).sum(-1)
    torch.testing.assert_close(terms["kl"][unknown], (q_y * kl_z).sum(-1)[unknown] + kl_y[unknown])


def test_the_enumerated_reconstruction_is_the_q_y_weighted_mean_of_each_class() -> None:
    model, batch = _model(_data()), _batch(_data(n=8, labelled=0))
    repeats = 400
    with torch.no_grad():
        enumerated = torch.stack([label_bounds(model, batch).terms["reconstruction"] for _ in range(repeats)])
        q_y = model.q_y(batch.x).probs
        per_class = torch.stack(
            [
                torch.stack(
                    [model(replace(batch, y=torch.full((8,), k), labelled=None)).log_p_x[0] for _ in range(repeats)]
                )
                for k in range(K)
            ],
            dim=-1,
        )  # (repeats, B, K)
    explicit = (per_class * q_y).sum(-1)  # (repeats, B)
    stderr = (enumerated.var(0) / repeats + explicit.var(0) / repeats).sqrt()
    assert ((enumerated.mean(0) - explicit.mean(0)).abs() < 5 * stderr + 1e-4).all()


def test_without_labels_every_row_is_enumerated_and_no_label_changes_the_bound() -> None:
    data = _data()
    model = _model(data)
    hidden = replace(data, y=np.full_like(data.y, UNLABELLED))
    torch.manual_seed(1)
    with_labels = label_bounds(model, _batch(data), use_labels=False).terms
    torch.manual_seed(1)
    without = label_bounds(model, _batch(hidden), use_labels=False).terms
    for name in with_labels:
        torch.testing.assert_close(with_labels[name], without[name])


def test_the_marginal_likelihood_estimate_is_above_the_label_free_bound() -> None:
    model, batch = _model(_data()), _batch(_data(n=20, labelled=0))
    torch.manual_seed(0)
    with torch.no_grad():
        bound = torch.stack([label_bounds(model, batch).terms["elbo"] for _ in range(50)]).mean(0)
    log_p_x = marginal_log_likelihood(model, batch, num_samples=200)
    assert log_p_x.shape == (20,)
    assert float((log_p_x - bound).mean()) > 0


def test_the_objective_weighs_each_labelled_row_by_alpha_n_over_n_labelled_and_trains_q_y_from_unlabelled_rows() -> (
    None
):
    data = _data()
    model, batch = _model(data).train(), _batch(data)
    torch.manual_seed(2)
    plain = M2(alpha=0.0)(model, batch)
    bound = M2(alpha=2.0).for_labelled_share(num_examples=60, num_labelled=12)
    assert isinstance(bound, M2) and bound.rows_per_labelled_row == 5.0
    torch.manual_seed(2)
    weighted = bound(model, batch)
    assert batch.y is not None and batch.labelled is not None
    logits = model.q_y(batch.x).logits[batch.labelled]
    cross_entropy = torch.nn.functional.cross_entropy(logits, batch.y[batch.labelled], reduction="sum")
    torch.testing.assert_close(weighted.loss - plain.loss, 2.0 * 5.0 * cross_entropy / len(batch))
    with pytest.raises(UserError, match="no training row is labelled"):
        M2().for_labelled_share(60, 0)
    unlabelled = _batch(replace(data, y=np.full_like(data.y, UNLABELLED)))
    model.zero_grad()
    M2()(model, unlabelled).loss.backward()
    assert model.classifier is not None
    assert any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.classifier.parameters())


def test_in_evaluation_the_objective_reads_no_label() -> None:
    data = _data()
    model = _model(data)
    hidden = replace(data, y=np.full_like(data.y, UNLABELLED))
    torch.manual_seed(3)
    a = M2()(model, _batch(data))
    torch.manual_seed(3)
    b = M2()(model, _batch(hidden))
    torch.testing.assert_close(a.loss, b.loss)


def test_every_training_batch_holds_labelled_rows_each_seen_equally_often() -> None:
    data = _data(n=200, labelled=10)
    batches = InMemoryBatches(data, 32, torch.device("cpu"), torch.Generator().manual_seed(0), labelled_per_batch=5)
    seen = np.zeros(len(data), dtype=int)
    counts = []
    for batch in batches:
        assert batch.labelled is not None
        counts.append(int(batch.labelled.sum()))
    assert min(counts) >= 5 and len(counts) == 7  # an epoch is still one pass over the rows
    rows = LabelledRows(torch.arange(10), 4, torch.Generator().manual_seed(0))
    for _ in range(5):
        seen[rows.draw().numpy()] += 1
    assert set(seen[:10]) == {2}  # 20 draws: every labelled row twice


def test_labels_kept_for_experiments_are_balanced_seeded_and_checked() -> None:
    y = np.repeat(np.arange(10), 50)
    kept = keep_labelled(y, 100, seed=4)
    assert (kept != UNLABELLED).sum() == 100
    assert np.bincount(kept[kept != UNLABELLED]).tolist() == [10] * 10
    assert np.array_equal(kept, keep_labelled(y, 100, seed=4))
    assert not np.array_equal(kept, keep_labelled(y, 100, seed=5))
    assert (kept[kept != UNLABELLED] == y[kept != UNLABELLED]).all()
    assert np.bincount(keep_labelled(y, 13, seed=0)[keep_labelled(y, 13, seed=0) >= 0]).max() == 2
    with pytest.raises(UserError, match="fewer labels than the 10 classes"):
        keep_labelled(y, 5, seed=0)
    with pytest.raises(UserError, match="more labels than"):
        keep_labelled(y, 501, seed=0)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (None, "label column"),
        (np.full(5, UNLABELLED), "no row is labelled"),
        (np.array([2, 2, UNLABELLED]), "only class 2"),
        (np.array([0, 1, -3]), "label -3"),
        (np.ones((3, 2), dtype=np.float32), "not condition vectors"),
    ],
)
def test_bad_labels_are_one_clear_error(y, message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_class_labels(y, "--model m2")


def test_a_conditional_vae_refuses_partly_labelled_data_and_m2_refuses_unlabelled_data() -> None:
    data = _data()
    with pytest.raises(UserError, match="needs every row labelled; --model m2"):
        model_spec(ModelConfig(preset="cvae"), data)
    with pytest.raises(UserError, match="label column"):
        model_spec(ModelConfig(preset="m2"), replace(data, y=None, num_classes=None))


def test_a_csv_label_column_with_empty_cells_and_minus_one_marks_unlabelled_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{['x', 'y', ''][i % 3]}\n" for i in range(30)))
    data = load_dataset(str(path), "all", labels="label")
    assert data.y is not None and data.num_classes == 2
    assert ((data.y == UNLABELLED) == (np.arange(30) % 3 == 2)).all()
    numbers = tmp_path / "n.npz"
    np.savez(numbers, x=np.random.default_rng(0).random((20, 4)).astype(np.float32), y=np.array([0, 1, -1, 2] * 5))
    data = load_dataset(str(numbers), "all")
    assert data.num_classes == 3 and (data.y == UNLABELLED).sum() == 5
    np.savez(numbers, x=np.zeros((4, 2), np.float32), y=np.array([0, 1, -2, 1]))
    with pytest.raises(UserError, match="-1 for an unlabelled row"):
        load_dataset(str(numbers), "all")


def test_the_binarized_mnist_test_split_carries_the_stably_sorted_mnist_test_labels(data_dir: Path) -> None:
    test = load_dataset("binarized-mnist", "test", data_dir=data_dir)
    assert test.y is not None and test.num_classes == 10
    assert (np.diff(test.y) >= 0).all()  # sorted by digit
    mnist = load_dataset("mnist", "test", data_dir=data_dir)
    assert mnist.y is not None
    assert np.bincount(test.y).tolist() == np.bincount(mnist.y).tolist()
    assert load_dataset("binarized-mnist", "valid", data_dir=data_dir).y is None


def test_an_m2_model_saves_and_loads_with_its_classifier(tmp_path: Path) -> None:
    data = _data()
    model = _model(data)
    model.save(tmp_path / "m2")
    loaded = vaelab.load(tmp_path / "m2").eval()
    x = _batch(data).x
    torch.testing.assert_close(model.q_y(x).probs, loaded.q_y(x).probs)


def test_fit_weighs_the_labels_by_the_training_data_s_share_of_labelled_rows() -> None:
    from vaelab.training import TrainSettings, fit

    data = _data(n=60, labelled=12)
    result = fit(_model(data), M2(), data, settings=TrainSettings(epochs=1, batch_size=20, progress=False))
    assert isinstance(result.objective, M2) and result.objective.rows_per_labelled_row == 5.0


def test_the_models_own_bound_and_likelihood_sum_the_class_out_unless_it_is_given() -> None:
    data = _data(n=20, labelled=20)
    model, labelled = _model(data), _batch(data)
    batch = replace(labelled, y=None, labelled=None)
    x, y = batch.x, torch.arange(20) % K
    torch.manual_seed(4)
    expected = label_bounds(model, batch).terms["elbo"]  # U(x)
    torch.manual_seed(4)
    torch.testing.assert_close(model.elbo(x), expected)
    torch.manual_seed(5)
    given = label_bounds(model, replace(batch, y=y, labelled=None)).terms["elbo"]  # L(x, y)
    torch.manual_seed(5)
    torch.testing.assert_close(model.elbo(x, y), given)
    assert not torch.allclose(expected, given)
    torch.manual_seed(6)
    log_p_x = marginal_log_likelihood(model, batch, num_samples=20)
    torch.manual_seed(6)
    torch.testing.assert_close(model.log_likelihood(x, num_samples=20), log_p_x)
    torch.manual_seed(7)
    bound = torch.stack([model.elbo(x, num_samples=4) for _ in range(25)]).mean(0)
    assert float((model.log_likelihood(x, num_samples=200) - bound).mean()) > 0  # log p(x) above U(x)
