"""The data schema: the kind-detection rule, stated kinds (``--kind``), per-column features of a CSV, the
schema's dict round trip, and the one CSV reader shared by training and ``vaelab detect``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import run_cli
from vaelab.applications.anomaly.table_file import read_detect_input
from vaelab.data.registry import load_dataset
from vaelab.data.schema import KINDS, DataSchema, Feature, check_kind, detect_kind, infer_feature
from vaelab.errors import UserError

TRAIN_FAST = ["--epochs", "1", "--hidden-dims", "8", "--latent-dim", "2", "--no-progress", "--no-report"]


def write_table(path: Path, rows: int = 30) -> Path:
    """Columns: binary 0/1, integers 0..4, negative integers, floats."""
    lines = ["flag,grade,delta,weight"] + [f"{i % 2},{i % 5},{i % 3 - 1},{i / 7:.3f}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_kind_is_detected_from_the_shape_of_one_example() -> None:
    assert detect_kind((1, 28, 28)) == "image" and detect_kind((3, 64, 64)) == "image"
    assert detect_kind((7,)) == "table"
    with pytest.raises(UserError, match=r"shaped \(3, 4\): images are \(C, H, W\) and tables \(D,\)"):
        detect_kind((3, 4))


@pytest.mark.parametrize(
    ("kind", "shape", "expected"),
    [
        ("tabel", (4,), f"unknown kind of data 'tabel'; use one of: {', '.join(KINDS)}"),
        ("sequence", (4,), "sequence data come from text, not arrays"),
        ("graph", (4,), "a graph comes with its edges: give a graph .npz"),
        ("image", (4,), "kind 'image' needs examples shaped (C, H, W), but these are shaped (4,)"),
        ("table", (1, 8, 8), "kind 'table' needs examples shaped (D,), but these are shaped (1, 8, 8)"),
    ],
)
def test_a_stated_kind_must_fit_the_shape(kind: str, shape: tuple[int, ...], expected: str) -> None:
    with pytest.raises(UserError) as caught:
        check_kind(kind, shape)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_fitting_kinds_pass() -> None:
    check_kind("image", (1, 8, 8))
    check_kind("table", (4,))


def test_schema_round_trips_through_json() -> None:
    features = (
        Feature("colour", "categorical", categories=("blue", "red")),
        Feature("grade", "ordinal", levels=5),
        Feature("weight", "continuous"),
    )
    schema = DataSchema("table", (3,), None, features)
    assert DataSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema
    image = DataSchema("image", (1, 28, 28), levels=256)
    assert DataSchema.from_dict(json.loads(json.dumps(image.to_dict()))) == image


def test_schema_and_feature_reject_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown kind of data 'picture'"):
        DataSchema("picture", (1, 8, 8))
    with pytest.raises(ValueError, match="unknown kind 'nominal'"):
        Feature("a", "nominal")
    with pytest.raises(ValueError, match="categories"):
        Feature("a", "categorical")
    with pytest.raises(ValueError, match="2 features describe the columns of a table"):
        DataSchema("table", (3,), features=(Feature("a", "continuous"), Feature("b", "continuous")))


def test_infer_feature_rule() -> None:
    assert infer_feature("a", np.array([True, False])) == Feature("a", "binary", levels=2)
    assert infer_feature("a", np.array([0, 1, 1])) == Feature("a", "binary", levels=2)
    assert infer_feature("a", np.array([0, 3, 1])) == Feature("a", "continuous")  # ordinal is declared, never guessed
    assert infer_feature("a", np.array([-1, 3])) == Feature("a", "continuous")
    assert infer_feature("a", np.array([0.0, 1.0])) == Feature("a", "binary", levels=2)
    assert infer_feature("a", np.array([0.0, 0.5])) == Feature("a", "continuous")
    assert infer_feature("a", np.array(["red", "blue", "red"], dtype=object)) == Feature(
        "a", "categorical", categories=("blue", "red")
    )


def test_csv_columns_carry_their_features(tmp_path: Path) -> None:
    data = load_dataset(str(write_table(tmp_path / "t.csv")), "train")
    kinds = [(f.name, f.kind, f.levels, f.integer) for f in data.schema.features or ()]
    assert kinds == [
        ("flag", "binary", 2, False),
        ("grade", "continuous", None, True),  # whole numbers: rounded on output
        ("delta", "continuous", None, True),
        ("weight", "continuous", None, False),
    ]
    assert data.schema.kind == "table" and data.schema.shape == (4,) and data.levels is None
    assert data.subset(np.arange(2)).schema == data.schema
    assert not data.is_image


def test_csv_continuous_columns_are_standardised_on_the_training_split(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.csv", rows=200)
    train, test = load_dataset(str(path), "train"), load_dataset(str(path), "test")
    assert train.features == test.features  # the scaling of the training split, whatever split is loaded
    weight = np.asarray(train.x)[:, 3]
    assert abs(weight.mean()) < 1e-5 and abs(weight.std() - 1) < 1e-4
    assert set(np.unique(np.asarray(train.x)[:, 0])) == {0.0, 1.0}  # binary stays 0/1


def test_load_dataset_checks_a_stated_kind(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.csv")
    assert load_dataset(str(path), "all", kind="table").kind == "table"
    with pytest.raises(UserError, match="kind 'image' needs examples shaped"):
        load_dataset(str(path), "all", kind="image")
    digits = load_dataset("digits", "valid", kind="image")
    assert digits.schema.kind == "image" and digits.subset(np.arange(3)).kind == "image"
    with pytest.raises(UserError, match="kind 'table' needs examples shaped"):
        load_dataset("digits", "valid", kind="table")
    with pytest.raises(UserError, match="vaelab detect --series"):
        load_dataset("digits", "valid", kind="series")
    with pytest.raises(UserError, match="a graph comes with its edges"):
        load_dataset("digits", "valid", kind="graph")


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda t: t.replace("0,0,-1,0.000", "0,red,-1,0.000"), ["column 'grade'", "'red' at line 2", "drop"]),
        (lambda t: t.replace("flag,grade", "flag\n\ngrade", 1), ["line 3 has 3 values"]),
    ],
)
def test_training_rejects_bad_cells_naming_column_and_line(  # type: ignore[no-untyped-def]
    edit, needles, tmp_path: Path
) -> None:
    path = write_table(tmp_path / "t.csv")
    path.write_text(edit(path.read_text()))
    with pytest.raises(UserError) as caught:
        load_dataset(str(path), "all")
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_the_detector_still_reads_categorical_and_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,colour,size,label\n1.5,red,3,0\n,blue,,1\n2.5,NA,1,0\n")
    rows = read_detect_input(path, "label", categorical=["size"], missing="impute")
    assert rows.columns == ["a", "colour", "size"] and rows.categorical == [1, 2]
    assert rows.y is not None and rows.y.tolist() == [0, 1, 0]
    assert rows.x[0].tolist() == [1.5, "red", "3"]
    assert np.isnan(rows.x[1, 0]) and np.isnan(rows.x[1, 2]) and np.isnan(rows.x[2, 1])


def test_train_kind_flag_accepted_and_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, run_dir = write_table(tmp_path / "t.csv"), tmp_path / "run"
    args = ["train", "--data", str(data), "--kind", "table", *TRAIN_FAST, "--out", str(run_dir)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["data"]["kind"] == "table"
    code, _, err = run_cli(["eval", str(run_dir), "--num-samples", "2"], capsys, monkeypatch)
    assert code == 0, err


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("image", "kind 'image' needs examples shaped (C, H, W), but these are shaped (4,)"),
        ("graph", "every row must be two node ids (u,v)"),
        ("tabel", f"use one of: {', '.join(KINDS)}"),
    ],
)
def test_train_kind_flag_rejected_in_one_line_writing_nothing(
    kind: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, run_dir = write_table(tmp_path / "t.csv"), tmp_path / "run"
    args = ["train", "--data", str(data), "--kind", kind, *TRAIN_FAST, "--out", str(run_dir)]
    code, _, err = run_cli(args, capsys, monkeypatch)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert "Traceback" not in err and not run_dir.exists()


def test_train_help_lists_every_kind(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(["train", "--help"], capsys, monkeypatch)
    assert code == 0 and all(kind in out for kind in KINDS)
