"""Bad and hostile inputs found by the fault probe (issue "Reliability and security"): each is one line on
stderr, exit code 1, no traceback, and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import run_cli, tiny_vae
from vaelab.data.binarized_mnist import load_binarized_mnist
from vaelab.errors import UserError


def assert_one_line(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_a_binary_config_file(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_bytes(bytes(range(128, 256)) * 3)
    code, _, err = run_cli(["train", "--config", str(config), "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert_one_line(code, err, "is not UTF-8 text")
    assert not (tmp_path / "run").exists()


def test_broken_yaml_names_its_line(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text("model:\n  latent_dim: 4\ntrain:\n  epochs: [1\n", encoding="utf-8")
    code, _, err = run_cli(["train", "--config", str(config)], capsys, monkeypatch)
    assert_one_line(code, err, "is not valid YAML at line 5")


def test_an_unknown_key_lists_the_section_and_the_closest_key(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(["train", "--set", "train.epoch=3"], capsys, monkeypatch)
    assert_one_line(code, err, "unknown config key train.epoch", "did you mean train.epochs?", "batch_size")


def test_out_that_is_a_file_or_a_folder(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    existing = tmp_path / "a-file"
    existing.write_text("keep me", encoding="utf-8")
    code, _, err = run_cli(["train", "--out", str(existing), "--epochs", "1"], capsys, monkeypatch)
    assert_one_line(code, err, "is a file, not a folder")
    assert existing.read_text(encoding="utf-8") == "keep me"
    table = tmp_path / "t.csv"
    table.write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(20)), encoding="utf-8")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, _, err = run_cli(["detect", "--data", str(table), "--out", str(folder)], capsys, monkeypatch)
    assert_one_line(code, err, "must be a file in an existing folder")
    assert not list(folder.iterdir()) and not list(tmp_path.glob(".*.tmp"))


def test_a_huge_label_is_refused_before_allocating(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "labels.csv"
    table.write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)) + "3,1000000000\n", encoding="utf-8")
    args = ["train", "--data", str(table), "--labels", "label", "--model", "cvae", "--out", str(tmp_path / "run")]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert_one_line(code, err, "label 1000000000", "more than 100,000 classes")
    assert not (tmp_path / "run").exists()


def test_damaged_model_files(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = tiny_vae()
    model.save(tmp_path / "good")
    header = json.loads((tmp_path / "good" / "model.json").read_text(encoding="utf-8"))

    def with_model(**fields: object) -> dict[str, object]:
        return {**header, "spec": {**header["spec"], "model": {**header["spec"]["model"], **fields}}}

    cases = {
        "version-string": {**header, "format_version": "2"},
        "huge-layers": with_model(network={"name": "mlp", "hidden_dims": [10**6, 10**6]}),
        "bad-latent": with_model(latent_dim="many"),
    }
    needles = {
        "version-string": "format_version is '2', not an integer",
        "huge-layers": "less than or equal to 65536",
        "bad-latent": "invalid model spec: bad config value for latent_dim",
    }
    for name, damaged in cases.items():
        folder = tmp_path / name
        shutil.copytree(tmp_path / "good", folder)
        (folder / "model.json").write_text(json.dumps(damaged), encoding="utf-8")
        out = tmp_path / f"{name}.npy"
        code, _, err = run_cli(["sample", str(folder), "-n", "2", "--out", str(out)], capsys, monkeypatch)
        assert_one_line(code, err, needles[name])
        assert not out.exists()


@pytest.mark.parametrize("width", [0, 1 << 17])
def test_layer_widths_outside_the_limits(width: int, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(["train", "--set", f"model.network.hidden_dims=[{width}]"], capsys, monkeypatch)
    assert_one_line(code, err, "bad config value for model.network.hidden_dims.0")


def test_files_the_loaders_cannot_read(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = tmp_path / "text.npy"
    text.write_text("hello world\n", encoding="utf-8")
    code, _, err = run_cli(["train", "--data", str(text), "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert_one_line(code, err, "is not a numeric .npy array")
    (tmp_path / "empty-file.npy").write_bytes(b"")
    (tmp_path / "header-only.csv").write_text("a,b\n", encoding="utf-8")
    np.save(tmp_path / "no-rows.npy", np.zeros((0, 3)))
    np.save(tmp_path / "no-columns.npy", np.zeros((10, 0)))
    needles = {
        "empty-file.npy": "cannot read it as .npy",
        "header-only.csv": "0 sample",  # read as a DataFrame: "got 0 samples" (arrays: "0 sample(s)")
        "no-rows.npy": "0 sample(s)",
        "no-columns.npy": "0 feature(s)",
    }
    for name, needle in needles.items():
        out = tmp_path / f"{name}.scores.csv"
        code, _, err = run_cli(["detect", "--data", str(tmp_path / name), "--out", str(out)], capsys, monkeypatch)
        assert_one_line(code, err, needle)
        assert not out.exists()


def test_a_failed_download_leaves_no_folder_behind(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="could not download"):
        load_binarized_mnist("train", tmp_path, mirrors=["http://127.0.0.1:9/"])  # nothing listens there
    assert not list(tmp_path.iterdir())


def test_weights_with_nan_are_refused_on_load(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model = tiny_vae()
    with torch.no_grad():
        next(model.decoder.parameters()).fill_(float("nan"))
    model.save(tmp_path / "nan")
    for command in (["sample", "-n", "2", "--out", str(tmp_path / "s.npy")], ["encode", "--data", "digits"]):
        code, _, err = run_cli([command[0], str(tmp_path / "nan"), *command[1:]], capsys, monkeypatch)
        assert_one_line(code, err, "holds NaN or infinite weights (first: decoder.")
    assert not (tmp_path / "s.npy").exists()


def test_too_few_rows_to_split_says_what_to_give(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "one.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = run_cli(["train", "--data", str(table), "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert_one_line(code, err, "1 rows are too few", "give at least 10 rows")
    assert not (tmp_path / "run").exists()


def test_detect_says_which_constant_columns_it_leaves_out(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "t.csv"
    table.write_text("a,b,flat\n" + "".join(f"{i},{(i * 7) % 5},3\n" for i in range(30)), encoding="utf-8")
    out = tmp_path / "scores.csv"
    code, _, err = run_cli(["detect", "--data", str(table), "--out", str(out), "--epochs", "1"], capsys, monkeypatch)
    assert code == 0 and out.is_file()
    assert "warning: left out constant (or empty) columns 'flat'" in err


def test_expected_failures_are_one_line_and_bugs_keep_their_traceback() -> None:
    from pydantic import BaseModel
    from safetensors import SafetensorError

    from vaelab.errors import expected_failure

    class Positive(BaseModel):
        epochs: int

    try:
        Positive(epochs="many")  # type: ignore[arg-type]
    except Exception as invalid:
        assert (
            expected_failure(invalid)
            == "bad config value for epochs: Input should be a valid integer, unable to parse string as an integer"
        )
    assert expected_failure(OSError(28, "No space left on device", "/runs/x")) == (
        "No space left on device: /runs/x; free some disk space"
    )
    assert expected_failure(PermissionError(13, "Permission denied", "data.csv")).startswith(
        "Permission denied: data.csv"
    )
    undecodable = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    assert (
        expected_failure(undecodable)
        == "a file is not UTF-8 text (invalid start byte at byte 0); give a text file in UTF-8"
    )
    assert "cannot be read or written" in str(expected_failure(SafetensorError("header too large")))
    assert expected_failure(RuntimeError("a bug")) is None and expected_failure(KeyError("x")) is None


def test_an_os_error_from_any_command_is_one_line(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import vaelab.config.run

    def unreadable(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "data.csv"))

    monkeypatch.setattr(vaelab.config.run, "train_from_config", unreadable)
    code, _, err = run_cli(["train", "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert_one_line(code, err, "Permission denied:", "data.csv; check the path and its permissions")


def test_yaml_tags_and_pickled_weights_run_no_code(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    config = tmp_path / "config.yaml"
    config.write_text(f"model: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    code, _, err = run_cli(["train", "--config", str(config), "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert_one_line(code, err, "is not valid YAML")
    model = tiny_vae()
    model.save(tmp_path / "pickled")
    torch.save({"payload": marker}, tmp_path / "pickled" / "model.safetensors")  # a pickle under the weights' name
    code, _, err = run_cli(
        ["sample", str(tmp_path / "pickled"), "-n", "2", "--out", str(tmp_path / "s.npy")], capsys, monkeypatch
    )
    assert_one_line(code, err, "model.safetensors")
    assert not marker.exists() and not (tmp_path / "run").exists() and not (tmp_path / "s.npy").exists()
