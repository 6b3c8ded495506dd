"""The semi-supervised M2 model (Kingma et al. 2014) through the command line: ``vaelab train --model m2`` with
labels kept for some rows, the accuracy ``vaelab eval`` reports, ``vaelab sample --label``, the report's
analogies, and the one-line errors of bad input."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import failure_line, run_cli, vaelab
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.registry import load_dataset
from vaelab.data.semi_supervised import UNLABELLED
from vaelab.evaluation.likelihood import likelihood_per_example
from vaelab.models.load import load

TINY = ["--hidden-dims", "32", "--latent-dim", "4", "--no-progress"]
FAST_EVAL = ["--num-samples", "5"]
Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def m2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """M2 on the embedded digits with 50 training labels kept, report included."""
    run_dir = tmp_path_factory.mktemp("runs") / "m2"
    args = ["train", "--data", "digits", "--model", "m2", "--num-labelled", "50", "--epochs", "2", *TINY]
    code, _, err = vaelab([*args, "--out", str(run_dir)])
    assert code == 0, err
    return run_dir


def _table(path: Path, labels: list[str]) -> Path:
    """A .csv of 4 numeric columns whose means depend on the class, and the ``label`` column given."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 3, len(labels))
    x = rng.normal(size=(len(labels), 4)) + classes[:, None]
    lines = ["a,b,c,d,label"] + [",".join(f"{v:.4f}" for v in row) + f",{y}" for row, y in zip(x, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_m2_trains_evaluates_samples_and_reports_analogies(
    m2_run: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = (m2_run / "config.yaml").read_text()
    assert "num_labelled: 50" in config
    code, out, err = run_cli(["eval", str(m2_run), "--json", *FAST_EVAL], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    assert "accuracy" in result["metrics"] and 0.0 <= result["accuracy"] <= 1.0
    assert result["accuracy_rows"] == 180  # every test row of digits is labelled
    confusion = np.array(result["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 180
    assert math.isclose(np.trace(confusion) / 180, result["accuracy"])
    assert math.isfinite(result["elbo"]) and math.isfinite(result["nll"])
    code, _, err = run_cli(["eval", str(m2_run), *FAST_EVAL, "--metrics", "accuracy"], capsys, monkeypatch)
    assert code == 0 and "accuracy: accuracy " in err and "on 180 labelled rows" in err
    out_png = m2_run / "threes.npy"
    code, _, err = run_cli(
        ["sample", str(m2_run), "--label", "3", "-n", "5", "--out", str(out_png)], capsys, monkeypatch
    )
    assert code == 0, err
    assert np.load(out_png).shape == (5, 1, 8, 8)
    code, _, err = run_cli(["sample", str(m2_run), "-n", "5", "--out", str(out_png)], capsys, monkeypatch)
    assert code == 0, err  # no --label: classes drawn from p(y)
    report = (m2_run / "report.html").read_text()  # written at the end of vaelab train
    assert 'id="analogies"' in report and "class 9" in report and "10 classes (rows)" in report
    (m2_run / "report.html").unlink()
    code, _, err = run_cli(["report", str(m2_run)], capsys, monkeypatch)
    assert code == 0, err
    assert 'id="analogies"' in (m2_run / "report.html").read_text()


def test_m2_on_a_table_with_empty_label_cells(tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = [str(k % 3) if k % 4 else "" for k in range(300)]  # a quarter of the cells empty
    path = _table(tmp_path / "table.csv", labels)
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(path), "--labels", "label", "--model", "m2", "--epochs", "2", *TINY, "--no-report"]
    code, _, err = run_cli([*args, "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    code, out, err = run_cli(["eval", str(run_dir), "--json", *FAST_EVAL], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    test_labels = load_dataset(str(path), "test", labels="label").y
    assert test_labels is not None and (test_labels == UNLABELLED).any()
    assert result["accuracy_rows"] == int((test_labels != UNLABELLED).sum()) < result["num_examples"]
    assert 0.0 <= result["accuracy"] <= 1.0 and len(result["accuracy_per_class"]) == 3


def test_text_labels_name_the_classes_that_sample_and_traverse_take(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("cat", "dog", "eel")
    labels = [names[k % 3] if k % 4 else "" for k in range(300)]
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(_table(tmp_path / "t.csv", labels)), "--labels", "label", "--model", "m2"]
    code, _, err = run_cli([*args, "--epochs", "1", *TINY, "--no-report", "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    assert load(run_dir).spec["class_names"] == list(names)  # sorted, in the order of their indices
    drawn = {}
    for label in ("dog", "1"):  # by name or by index: the same class, the same seed, the same rows
        out = tmp_path / f"{label}.npy"
        sample = ["sample", str(run_dir), "--label", label, "-n", "3", "--out", str(out)]
        code, _, err = run_cli(sample, capsys, monkeypatch)
        assert code == 0, err
        drawn[label] = np.load(out)
    np.testing.assert_array_equal(drawn["dog"], drawn["1"])
    traverse = ["traverse", str(run_dir), "--base", "prior", "--label", "eel", "--steps", "3"]
    code, _, err = run_cli([*traverse, "--out", str(tmp_path / "t.npy")], capsys, monkeypatch)
    assert code == 0, err
    sample = ["sample", str(run_dir), "--label", "cow", "--out", str(tmp_path / "x.npy")]
    code, _, err = run_cli(sample, capsys, monkeypatch)
    assert code == 1 and err.strip() == "error: --label cow is not a class of this model: use one of cat, dog, eel"
    assert not (tmp_path / "x.npy").exists()


def test_accuracy_does_not_apply_to_a_model_without_a_classifier(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "vae"
    code, _, err = run_cli(["train", "--epochs", "1", *TINY, "--no-report", "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    code, out, err = run_cli(["eval", str(run_dir), "--json", *FAST_EVAL], capsys, monkeypatch)
    assert code == 0, err
    assert "accuracy" not in json.loads(out)["metrics"]
    code, _, err = run_cli(["eval", str(run_dir), *FAST_EVAL, "--metrics", "accuracy"], capsys, monkeypatch)
    assert code == 1 and err.strip().startswith("error: the accuracy metric does not apply")
    assert "--model m2" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("labels", "extra", "message"),
    [
        (None, [], "learns from class labels"),
        ([""] * 100, [], "no row is labelled"),
        (["1" if k % 2 else "" for k in range(100)], [], "only class 1"),
        ([str(k % 3) for k in range(100)], ["--num-labelled", "2"], "fewer labels than the 3 classes"),
    ],
    ids=["no-labels", "no-labelled-row", "one-class", "too-few-kept"],
)
def test_bad_semi_supervised_data_give_one_line_errors(
    labels: list[str] | None,
    extra: list[str],
    message: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if labels is None:
        path = tmp_path / "digits.npz"
        train, valid, test = (np.asarray(load_dataset("digits", split).x) for split in ("train", "valid", "test"))
        np.savez(path, train=train, valid=valid, test=test)  # images without labels
        data = [str(path)]
    else:
        data = [str(_table(tmp_path / "table.csv", labels)), "--labels", "label"]
    args = ["train", "--data", *data, "--model", "m2", "--epochs", "1", *TINY, "--no-report", *extra]
    code, _, err = run_cli([*args, "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert code == 1 and "Traceback" not in err
    line = failure_line(err)
    assert line.startswith("error: ") and message in line, err


@pytest.mark.parametrize("label", ["99", "-1"])
def test_a_label_outside_the_classes_is_one_line(
    m2_run: Path, label: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["sample", str(m2_run), "--label", label, "--out", str(m2_run / "bad.png")]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 1 and err.strip() == f"error: --label {label} is not a class of this model: use one of 0..9"
    assert not (m2_run / "bad.png").exists()


def test_likelihood_of_an_m2_model_reads_no_label() -> None:
    data = load_dataset("digits", "test").subset(np.arange(40))
    assert data.y is not None
    config = ModelConfig(preset="m2", latent_dim=3, hidden_dims=[16], network="mlp")  # type: ignore[call-arg]
    model = build_model(model_spec(config, data)).eval()
    hidden = [
        dataclasses.replace(data, y=None),
        dataclasses.replace(data, y=np.full_like(data.y, UNLABELLED)),
        dataclasses.replace(data, y=(data.y + 1) % 10),  # wrong labels
    ]
    torch.manual_seed(0)
    expected = likelihood_per_example(model, data, num_samples=4)
    assert set(expected) >= {"elbo", "reconstruction", "kl", "nll"}
    assert np.all(expected["nll"] <= -expected["elbo"] + 1.0)  # log p(x) above its bound, up to noise
    for other in hidden:
        torch.manual_seed(0)
        values = likelihood_per_example(model, other, num_samples=4)
        for name, value in expected.items():
            np.testing.assert_array_equal(values[name], value, err_msg=name)


def test_sampling_an_m2_model_without_a_label_draws_classes_from_p_y() -> None:
    data = load_dataset("digits", "test").subset(np.arange(40))
    config = ModelConfig(preset="m2", latent_dim=3, hidden_dims=[16], network="mlp")  # type: ignore[call-arg]
    model = build_model(model_spec(config, data)).eval()
    torch.manual_seed(0)
    drawn = model.sample(6)
    torch.manual_seed(0)
    classes = torch.randint(10, (6,))  # p(y) uniform over the 10 classes
    assert drawn.shape == (6, 1, 8, 8) and len(classes.unique()) > 1
    torch.testing.assert_close(drawn, model.sample(6, y=classes))
