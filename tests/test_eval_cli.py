"""``vaelab eval`` end to end: metric selection, the promised JSON keys and files, and the promised errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from test_cli import run_cli
from vaelab.config.files import resolve_config
from vaelab.config.run import train_from_config
from vaelab.data.registry import load_dataset

FAST_EVAL = ["--num-samples", "20", "--classifier-steps", "200"]
REQUIRED_KEYS = (
    "elbo",
    "nll",
    "bits_per_dim",
    "kl_per_dim",
    "active_units",
    "mutual_information",
    "frechet_distance",
    "precision",
    "recall",
    "latent_accuracy",
)


@pytest.fixture(scope="module")
def gaussian_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Gaussian-likelihood run on the grey-level digits (17 levels), trained in-process."""
    run_dir = tmp_path_factory.mktemp("runs") / "gaussian"
    model = {"likelihood": "gaussian", "hidden_dims": [32], "latent_dim": 4}
    config = resolve_config({"model": model, "train": {"epochs": 2}, "report": False})
    train_from_config(config, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="module")
def unlabelled_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, **{split: load_dataset("digits", split).x for split in ("train", "valid", "test")})
    return path


def test_all_metrics_on_grey_levels_under_a_gaussian_likelihood(
    gaussian_run: Path, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    args = ["eval", str(gaussian_run), "--all", "--json", *FAST_EVAL, "--cache-dir", str(tmp_path)]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    for key in REQUIRED_KEYS:
        assert result[key] is not None, key
    assert math.isfinite(result["bits_per_dim"]) and result["bits_per_dim"] > 0
    assert len(result["kl_per_dim"]) == 4 and 0 <= result["active_units"] <= 4
    assert result["metrics"] == ["likelihood", "latent", "quality", "downstream"]
    assert result["num_examples"] == 180 and result["num_generated"] == 180
    assert result["reference_classifier"]["labels"] == "classes"
    assert json.loads((gaussian_run / "eval-test.json").read_text()) == result
    with np.load(gaussian_run / "eval-test-per-example.npz") as per_example:
        np.testing.assert_allclose(per_example["nll"].mean(), result["nll"])
        assert per_example["bits_per_dim"].shape == (180,)
    assert not list(gaussian_run.glob(".*.tmp")) and len(list(tmp_path.glob("*.safetensors"))) == 1


def test_default_metrics_and_human_output(gaussian_run: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(["eval", str(gaussian_run), "--split", "valid", *FAST_EVAL], capsys, monkeypatch)
    assert code == 0, err
    assert out == ""
    assert "likelihood: elbo" in err and "bits/dim" in err and "latent: active units" in err
    result = json.loads((gaussian_run / "eval-valid.json").read_text())
    assert result["metrics"] == ["likelihood", "latent"] and "frechet_distance" not in result


def test_unlabelled_data_skip_downstream_under_all_and_reject_it_when_asked(
    gaussian_run: Path, unlabelled_digits: Path, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    base = ["eval", str(gaussian_run), "--data", str(unlabelled_digits), *FAST_EVAL]
    code, out, err = run_cli([*base, "--all", "--json", "--cache-dir", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    assert "latent_accuracy" not in result and "labels" in result["skipped"]["downstream"]
    assert result["reference_classifier"]["labels"].startswith("k-means pseudo-labels")
    assert "factors" in result["skipped"]["disentanglement"]
    code, out, err = run_cli([*base, "--metrics", "downstream"], capsys, monkeypatch)
    assert code == 1 and out == "" and err.count("\n") == 1 and "class labels" in err
    code, out, err = run_cli([*base, "--disentanglement"], capsys, monkeypatch)
    assert code == 1 and out == "" and err.count("\n") == 1 and "known generating factors" in err


@pytest.mark.slow  # about 15 s: trains on shapes; the metrics themselves are tested in test_disentanglement.py
def test_disentanglement_metrics_of_a_run_on_shapes(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run_dir = tmp_path / "shapes"
    model = {"network": "mlp", "hidden_dims": [32], "latent_dim": 4}
    train = {"epochs": 1, "max_steps": 30, "batch_size": 64}
    config = resolve_config({"data": {"name": "shapes-32"}, "model": model, "train": train, "report": False})
    train_from_config(config, run_dir, progress=False)
    args = ["eval", str(run_dir), "--disentanglement", "--limit", "300", "--votes", "40", "--num-samples", "4"]
    code, out, err = run_cli([*args, "--json"], capsys, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    assert result["metrics"] == ["likelihood", "latent", "disentanglement"]
    assert result["disentanglement_codes"] == 300 and result["disentanglement_votes"] == 40
    names = ("mig", "disentanglement", "completeness", "informativeness", "sap", "beta_vae_score", "factor_vae_score")
    for name in names:
        assert 0 <= result[name] <= 1, name
    assert len(result["mig_per_factor"]) == 5  # shape, scale, orientation, x and y position


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--metrics", "likelihood,fid"], "unknown metric 'fid'"),
        (["--classifier-steps", "0"], "--classifier-steps"),
        (["--num-samples", "0"], "at least 1"),
    ],
)
def test_bad_eval_options_give_one_line_errors(gaussian_run: Path, flags, message, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(["eval", str(gaussian_run), *flags], capsys, monkeypatch)
    assert code == 1 and out == "" and err.count("\n") == 1 and message in err
