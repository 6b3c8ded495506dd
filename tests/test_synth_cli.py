"""``vaelab synth``, ``vaelab train`` on a table with text and missing cells, and ``vaelab eval --synthetic``,
end to end through the command line; bad input is one line, exit code 1, and nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import vaelab
from vaelab import TabularVAE

torch.set_num_threads(1)

FAST = ["--epochs", "3"]


def write_people(path: Path, rows: int = 120) -> Path:
    """Columns: a whole-number age, a float income with gaps, a colour with gaps, a yes/no answer."""
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], rows)
    lines = ["age,income,colour,answer"]
    for i in range(rows):
        income = "" if i % 10 == 0 else f"{rng.lognormal(10, 0.5):.2f}"
        shown = "" if i % 13 == 0 else colour[i]
        lines.append(f"{rng.integers(18, 90)},{income},{shown},{'yes' if colour[i] == 'red' else 'no'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("synth")
    data = write_people(folder / "people.csv")
    code, _, err = vaelab(
        [
            "synth",
            "--data",
            str(data),
            *FAST,
            "-n",
            "30",
            "--out",
            str(folder / "s.csv"),
            "--save",
            str(folder / "model"),
        ]
    )
    assert code == 0, err
    return data, folder


def test_synth_writes_rows_in_the_files_columns(saved: tuple[Path, Path]) -> None:
    _, folder = saved
    rows = pd.read_csv(folder / "s.csv")
    assert list(rows.columns) == ["age", "income", "colour", "answer"] and len(rows) == 30
    assert rows["age"].dtype == np.int64 and rows["age"].between(18, 89).all()
    assert set(rows["colour"]) <= {"red", "green", "blue"} and set(rows["answer"]) <= {"yes", "no"}
    assert (folder / "model" / "tabular.json").is_file() and (folder / "model" / "model.safetensors").is_file()


def test_synth_with_training_by_sampling_keeps_the_files_columns(tmp_path: Path) -> None:
    data, out = write_people(tmp_path / "people.csv"), tmp_path / "s.csv"
    args = ["synth", "--data", str(data), *FAST, "--sampling", "log-frequency", "--out", str(out)]
    code, _, err = vaelab([*args, "--save", str(tmp_path / "m")])
    assert code == 0, err
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["age", "income", "colour", "answer"] and len(rows) == 120
    assert set(rows["answer"]) <= {"yes", "no"}
    assert json.loads((tmp_path / "m" / "tabular.json").read_text())["settings"]["sampling"] == "log-frequency"


def test_synth_from_a_saved_model_with_a_condition(saved: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = saved
    out = tmp_path / "red.csv"
    code, stdout, err = vaelab(
        ["synth", str(folder / "model"), "-n", "25", "--condition", "colour=red", "--out", str(out), "--json"]
    )
    assert code == 0, err
    assert json.loads(stdout)["conditions"] == {"colour": "red"}
    assert (pd.read_csv(out)["colour"] == "red").all()
    sharp = tmp_path / "sharp.csv"
    code, _, err = vaelab(
        ["synth", str(folder / "model"), "-n", "25", "--temperature", "0", "--chain-steps", "2", "--out", str(sharp)]
    )
    assert code == 0, err
    expected = TabularVAE.load(folder / "model").sample(25, random_state=0, temperature=0.0, chain_steps=2)
    assert pd.read_csv(sharp).equals(pd.read_csv(io.StringIO(expected.to_csv(index=False))))


def test_eval_synthetic_of_a_saved_model_and_of_a_train_run(saved: tuple[Path, Path], tmp_path: Path) -> None:
    data, folder = saved
    code, stdout, err = vaelab(["eval", str(folder / "model"), "--synthetic", "--target", "answer", "--json"])
    assert code == 0, err
    figures = json.loads(stdout)
    for key in ("column_shapes", "column_pair_trends", "ml_efficacy_f1", "dcr_synthetic_p5", "dcr_holdout_median"):
        assert figures[key] is not None and figures[key] >= 0, key
    assert figures["train_rows"] + figures["test_rows"] == 120 and (folder / "model" / "eval-synthetic.json").is_file()
    run = tmp_path / "run"
    code, _, err = vaelab(["train", "--data", str(data), *FAST, "--no-progress", "--no-report", "--out", str(run)])
    assert code == 0, err
    assert "independent per-column marginals" in err  # the held-out bound is compared with them
    code, stdout, err = vaelab(["eval", str(run), "--synthetic", "--json"])
    assert code == 0, err and json.loads(stdout)["synthetic_rows"] == json.loads(stdout)["train_rows"]
    code, _, err = vaelab(["sample", str(run), "-n", "7", "--out", str(tmp_path / "rows.csv")])
    assert code == 0, err and len(pd.read_csv(tmp_path / "rows.csv")) == 7


def one_line(code: int, err: str, needle: str) -> None:
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--condition", "shape=round"], "the table has no column 'shape'"),
        (["--condition", "colour=purple"], "column 'colour' never holds 'purple'"),
        (["--condition", "colour"], "is not COLUMN=VALUE"),
        (["--kind", "age=weird"], "column 'age': unknown kind 'weird'"),
        (["--sampling", "rare"], "sampling must be one of"),
        (["--temperature", "-1"], "--temperature must be at least 0"),
        (["--chain-steps", "-1"], "--chain-steps must be at least 0"),
    ],
)
def test_synth_refuses_bad_options_before_fitting_and_writes_nothing(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    data = write_people(tmp_path / "people.csv")
    out = tmp_path / "s.csv"
    code, _, err = vaelab(
        ["synth", "--data", str(data), *FAST, *args, "--out", str(out), "--save", str(tmp_path / "m")]
    )
    one_line(code, err, needle)
    assert not out.exists() and not (tmp_path / "m").exists()


def test_bad_tables_and_models_are_named_in_one_line(saved: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = saved
    other = tmp_path / "other.csv"
    other.write_text("age,salary,colour,answer\n" + "30,1.5,red,yes\n" * 30, encoding="utf-8")
    code, _, err = vaelab(["eval", str(folder / "model"), "--synthetic", "--data", str(other)])
    one_line(code, err, "lacks column 'income'")
    code, _, err = vaelab(
        ["synth", str(folder / "model"), "--condition", "colour=purple", "--out", str(tmp_path / "x.csv")]
    )
    one_line(code, err, "column 'colour' has no category 'purple'")
    code, _, err = vaelab(["eval", str(folder / "model"), "--synthetic", "--target", "age"])
    one_line(code, err, "--target age: the efficacy needs a categorical or binary column")
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n1,\n2,\n3,\n", encoding="utf-8")
    code, _, err = vaelab(["synth", "--data", str(empty), *FAST, "--out", str(tmp_path / "y.csv")])
    one_line(code, err, "column 'b' has no values (every cell is missing)")
    code, _, err = vaelab(["synth", "--data", str(empty), "--out", str(tmp_path / "y.npy")])
    one_line(code, err, "--out must end in .csv")
    assert not list(tmp_path.glob("x.csv")) and not list(tmp_path.glob("y.*"))
