"""End to end through the ``vaelab`` command: every command, the promised outputs and the promised errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

FAST = ["--epochs", "2", "--hidden-dims", "32", "--latent-dim", "4", "--no-progress"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    code = subprocess.run(
        [sys.executable, "-m", "vaelab", "train", *FAST, "--out", str(run_dir)],
        capture_output=True,
        text=True,
    )
    assert code.returncode == 0, code.stderr
    return run_dir


def test_help_lists_every_command() -> None:
    result = subprocess.run([sys.executable, "-m", "vaelab", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("train", "eval", "sample", "reconstruct", "interpolate", "encode", "config", "env"):
        assert command in result.stdout


def test_train_help_lists_the_registered_parts(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vaelab.models.build import LIKELIHOODS, NETWORKS

    code, out, _ = run_cli(["train", "--help"], capsys, monkeypatch)
    assert code == 0
    for registry in (LIKELIHOODS, NETWORKS):
        assert " | ".join(["auto", *registry]) in " ".join(out.split())  # as one text, whatever the wrapping


def test_train_writes_a_complete_run_directory(digits_run: Path) -> None:
    for name in ("config.yaml", "model.json", "model.safetensors", "checkpoint.safetensors", "metrics.jsonl"):
        assert (digits_run / name).is_file(), name
    for name in ("samples.png", "reconstructions.png", "interpolation.png"):
        assert (digits_run / "images" / name).stat().st_size > 1000, name
    records = [json.loads(line) for line in (digits_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert not list(digits_run.rglob("*.tmp"))


def test_eval_json_reports_per_example_means(digits_run: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(
        ["eval", str(digits_run), "--num-samples", "20", "--limit", "50", "--json"], capsys, monkeypatch
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["num_examples"] == 50 and result["num_samples"] == 20
    assert result["nll"] <= -result["elbo"] + 0.5  # the IS estimate is (statistically) at least the ELBO
    assert result["elbo"] == pytest.approx(result["reconstruction"] - result["kl"], abs=1e-3)
    assert (digits_run / "eval-test.json").is_file()


def test_apply_commands_write_their_outputs(digits_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for args, out in [
        (["sample", str(digits_run), "-n", "16"], "s.png"),
        (["sample", str(digits_run), "-n", "5"], "s.npy"),
        (["reconstruct", str(digits_run), "-n", "8"], "r.png"),
        (["interpolate", str(digits_run), "--steps", "6"], "i.png"),
        (["encode", str(digits_run)], "z.npy"),
    ]:
        code, _, err = run_cli([*args, "--out", str(tmp_path / out)], capsys, monkeypatch)
        assert code == 0, err
        assert (tmp_path / out).stat().st_size > 100
    assert np.load(tmp_path / "s.npy").shape == (5, 1, 8, 8)
    latents = np.load(tmp_path / "z.npy")
    assert latents.shape[1] == 4 and np.isfinite(latents).all()


def test_conditional_model_samples_a_chosen_class(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run_dir = tmp_path / "cvae"
    code, _, err = run_cli(["train", "--model", "cvae", *FAST, "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(
        ["sample", str(run_dir), "-n", "4", "--label", "3", "--out", str(tmp_path / "three.npy")],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert np.load(tmp_path / "three.npy").shape == (4, 1, 8, 8)


def test_config_show_resolves_overrides(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  epochs: 7\nmodel:\n  latent_dim: 5\n")
    code, out, _ = run_cli(["config", "show", "--config", str(config), "--set", "train.lr=0.01"], capsys, monkeypatch)
    assert code == 0
    assert "epochs: 7" in out and "latent_dim: 5" in out and "lr: 0.01" in out


def test_config_models_lists_every_preset_in_one_column(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vaelab.config.presets import PRESETS
    from vaelab.models.build import REGISTRIES

    code, out, _ = run_cli(["config", "models"], capsys, monkeypatch)
    assert code == 0
    presets, parts = out.strip().split("\n\n")
    listed = dict(line.split(": ", 1) for line in parts.splitlines()[:-1])
    for field, registry in REGISTRIES.items():  # the parts are listed from the registries, with their options
        assert [entry.split(" (")[0] for entry in listed[f"model.{field}"].split(" | ")] == list(registry)
    assert "gaussian (scale=learned, min_scale=0.001)" in listed["model.likelihood"]
    lines = presets.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    description_starts = {len(line) - len(line[len(line.split()[0]) :].lstrip()) for line in lines}
    assert len(description_starts) == 1  # every description starts in the same column


def _assert_clean_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("make_data", "extra", "needles"),
    [
        (None, ["--data", "missing.npy"], ["no such file"]),
        (lambda: np.zeros((10, 2, 3, 4, 5), np.float32), [], ["shape"]),
        (lambda: np.array([[0.5, np.nan]] * 20, np.float32), [], ["NaN"]),
        (
            lambda: np.full((20, 6), 0.5, np.float32),
            ["--likelihood", "bernoulli"],
            ["bernoulli", "continuous-bernoulli"],
        ),
        (lambda: np.zeros((20, 6), np.float32), ["--model", "nonsense"], ["unknown model", "vae"]),
        (lambda: np.zeros((20, 6), np.float32), ["--set", "train.epochs=-1"], ["train.epochs"]),
        (
            lambda: np.zeros((20, 6), np.float32),
            ["--set", "train.lr_schedule=cosine-time"],
            ["'cosine-time'", "train.max_minutes"],
        ),
    ],
)
def test_bad_training_input_is_one_line_and_writes_nothing(
    make_data,
    extra,
    needles,
    tmp_path: Path,
    capsys,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["train", *FAST, "--out", str(tmp_path / "run")]
    if make_data is not None:
        np.save(tmp_path / "data.npy", make_data())
        args += ["--data", str(tmp_path / "data.npy")]
    code, out, err = run_cli([*args, *extra], capsys, monkeypatch)
    _assert_clean_error(code, err, *needles)
    assert out == ""
    assert not (tmp_path / "run").exists()


def test_verbose_shows_the_traceback(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(["--verbose", "train", "--data", str(tmp_path / "none.npy")], capsys, monkeypatch)
    assert code == 1 and "Traceback" in err


def test_existing_run_is_not_overwritten(digits_run: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = (digits_run / "model.safetensors").read_bytes()
    code, _, err = run_cli(["train", *FAST, "--out", str(digits_run)], capsys, monkeypatch)
    _assert_clean_error(code, err, "--resume")
    assert (digits_run / "model.safetensors").read_bytes() == before


def test_resume_extends_a_run(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run_dir = tmp_path / "run"
    assert run_cli(["train", *FAST, "--out", str(run_dir)], capsys, monkeypatch)[0] == 0
    code, _, err = run_cli(
        ["train", "--resume", "--out", str(run_dir), "--epochs", "3", "--no-progress"], capsys, monkeypatch
    )
    assert code == 0, err
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3


def test_corrupted_and_foreign_weights_are_refused(digits_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    corrupted = tmp_path / "corrupted"
    shutil.copytree(digits_run, corrupted)
    (corrupted / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    code, _, err = run_cli(["sample", str(corrupted), "--out", str(tmp_path / "x.png")], capsys, monkeypatch)
    _assert_clean_error(code, err, "safetensors")

    foreign = tmp_path / "foreign"
    shutil.copytree(digits_run, foreign)
    import torch
    from safetensors.torch import save_file

    save_file({"some.other.weight": torch.zeros(3)}, str(foreign / "model.safetensors"))
    code, _, err = run_cli(["sample", str(foreign), "--out", str(tmp_path / "x.png")], capsys, monkeypatch)
    _assert_clean_error(code, err, "does not match")
    assert not (tmp_path / "x.png").exists()


def test_eval_rejects_data_of_the_wrong_shape(digits_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    np.save(tmp_path / "wide.npy", np.zeros((30, 10), np.float32))
    code, _, err = run_cli(["eval", str(digits_run), "--data", str(tmp_path / "wide.npy")], capsys, monkeypatch)
    _assert_clean_error(code, err, "shape")


@pytest.mark.parametrize("config", sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml")))
def test_every_shipped_config_validates(config: Path) -> None:
    from vaelab.config.files import read_yaml, resolve_config

    resolved = resolve_config(read_yaml(config))
    assert resolved.model.preset


def test_train_on_an_npz_without_a_valid_array(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    path = tmp_path / "splits.npz"
    np.savez(path, train=rng.integers(0, 2, (64, 6), dtype=np.uint8), test=rng.integers(0, 2, (16, 6), dtype=np.uint8))
    code, _, err = run_cli(
        ["train", *FAST, "--data", str(path), "--out", str(tmp_path / "run"), "--no-report"], capsys, monkeypatch
    )
    assert code == 0, err
    assert (tmp_path / "run" / "model.safetensors").is_file()
