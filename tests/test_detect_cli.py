"""``vaelab detect`` end to end: the scores file, the label metrics, and one-line errors for bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from vaelab.cli.main import main

FAST = ["--epochs", "3", "--num-samples", "2"]


def write_csv(path: Path, rows: int = 60, label_at: int = 0) -> Path:
    """Columns: two related numbers, a colour (categorical), a 0/1 label; the first rows are off the line."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=rows)
    b = 2 * a + 0.1 * rng.normal(size=rows)
    b[:5] += 4
    colour = rng.choice(["red", "blue"], size=rows)
    label = (np.arange(rows) < 5).astype(int)
    lines = ["a,b,colour,label"] + [f"{a[i]:.4f},{b[i]:.4f},{colour[i]},{label[i]}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_detect_writes_a_score_and_flag_per_row_and_reports_label_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = write_csv(tmp_path / "t.csv"), tmp_path / "scores.csv"
    args = ["detect", "--data", str(data), "--label-column", "label", "--contamination", "0.1", "--out", str(out)]
    code, stdout, err = run_cli([*args, *FAST, "--json"], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["rows"] == 60 and summary["outliers"] == 6  # 10 % of the rows
    assert 0 <= summary["roc_auc"] <= 1 and 0 <= summary["average_precision"] <= 1
    lines = out.read_text().splitlines()
    assert lines[0] == "row,score,decision,outlier" and len(lines) == 61
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert np.allclose(table[:, 1] - summary["threshold"], table[:, 2], atol=1e-4)
    assert np.array_equal(table[:, 3], (table[:, 2] < 0).astype(float))


def test_detect_reads_npz_labels_and_prints_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    y = np.zeros(50, int)
    x[:4], y[:4] = 8.0, 1
    np.savez(tmp_path / "t.npz", X=x, y=y)
    code, _, err = run_cli(
        ["detect", "--data", str(tmp_path / "t.npz"), "--out", str(tmp_path / "s.csv"), *FAST], capsys, monkeypatch
    )
    assert code == 0, err
    assert "ROC-AUC" in err and "average precision" in err and "rows flagged" in err
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 51


@pytest.mark.parametrize(
    ("edit", "extra", "needles"),
    [
        (lambda text: text.replace("0.1257", "oops", 1), [], ["column 'a'", "'oops'", "at line 2", "--categorical a"]),
        (  # blank lines are skipped but still counted, so the line is the one an editor shows
            lambda text: text.replace("label\n", "label\n\n", 1).replace("0.1257", "oops", 1),
            [],
            ["'oops' at line 3"],
        ),
        (lambda text: text.replace("0.1257", "", 1), [], ["column 'a'", "missing value at line 2", "--missing impute"]),
        (lambda text: text.replace("0.1257", "inf", 1), [], ["column 'a'", "infinite value at line 2"]),
        (lambda text: text, ["--label-column", "y"], ["no column 'y'"]),
        (lambda text: text, ["--contamination", "0.9"], ["--contamination", "(0, 0.5]"]),
        (lambda text: text, ["--score", "nll"], ["unknown score_type 'nll'"]),
        (lambda text: text, ["--rate-weight", "-1"], ["rate_weight must be a positive number"]),
        (lambda text: text, ["--max-train-rows", "-1"], ["--max-train-rows must be a number of rows"]),
        (lambda text: "\n".join(text.splitlines()[:4]), [], ["at least 5 rows", "got 3 samples"]),
        (
            lambda text: text.replace(",0\n", ",2\n", 1),
            ["--label-column", "label"],
            ["value 2.0 at line 7 is not a label", "0 (normal) or 1"],
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(  # type: ignore[no-untyped-def]
    edit, extra, needles, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_csv(tmp_path / "t.csv")
    data.write_text(edit(data.read_text()))
    out = tmp_path / "scores.csv"
    code, _, err = run_cli(["detect", "--data", str(data), "--out", str(out), *FAST, *extra], capsys, monkeypatch)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out.exists()


def test_a_table_larger_than_max_train_rows_is_fitted_on_a_subsample_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = write_csv(tmp_path / "t.csv"), tmp_path / "s.csv"
    args = ["detect", "--data", str(data), "--out", str(out), *FAST]
    code, _, err = run_cli([*args, "--max-train-rows", "40"], capsys, monkeypatch)
    assert code == 0, err
    assert "fitted on a random 40 of the 60 rows" in err
    assert len(out.read_text().splitlines()) == 61  # every row is scored
    code, stdout, err = run_cli([*args, "--max-train-rows", "0", "--json"], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(stdout)["train_rows"] == 60


def test_imputed_missing_cells_are_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_csv(tmp_path / "t.csv")
    data.write_text(data.read_text().replace("0.1257", "", 1))
    out = tmp_path / "s.csv"
    args = ["detect", "--data", str(data), "--missing", "impute", "--out", str(out), *FAST]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert np.isfinite(np.loadtxt(out, delimiter=",", skiprows=1)).all()


def test_a_bad_npz_label_names_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    y = np.zeros(20, int)
    y[4] = 3
    np.savez(tmp_path / "t.npz", x=np.zeros((20, 3)), y=y)
    out = tmp_path / "s.csv"
    code, _, err = run_cli(["detect", "--data", str(tmp_path / "t.npz"), "--out", str(out), *FAST], capsys, monkeypatch)
    assert code == 1 and not out.exists()
    assert "labels 'y': the value 3 at row 4 is not a label; use 0 (normal) or 1 (anomaly)" in err, err


# ------------------------------------------------------------------ --save and --model
def test_a_saved_detector_scores_new_rows_as_the_fit_scored_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, saved = write_csv(tmp_path / "t.csv"), tmp_path / "detector"
    fit = ["detect", "--data", str(data), "--label-column", "label", "--out", str(tmp_path / "fit.csv")]
    code, stdout, err = run_cli([*fit, *FAST, "--save", str(saved), "--json"], capsys, monkeypatch)
    assert code == 0, err
    fitted = json.loads(stdout)
    assert fitted["detector"] == "fitted" and fitted["saved"] == str(saved) and (saved / "detector.json").is_file()
    lines = data.read_text().splitlines()
    new = tmp_path / "new.csv"
    new.write_text("\n".join([lines[0], *lines[1:11], *lines[41:61]]) + "\n")  # the first 10 rows and the last 20
    score = ["detect", "--data", str(new), "--label-column", "label", "--model", str(saved)]
    code, stdout, err = run_cli([*score, "--out", str(tmp_path / "new-scores.csv"), "--json"], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["detector"] == str(saved) and summary["rows"] == 30 and "roc_auc" in summary
    assert summary["threshold"] == fitted["threshold"] and summary["score"] == fitted["score"]
    fit_rows = (tmp_path / "fit.csv").read_text().splitlines()[1:]
    new_rows = (tmp_path / "new-scores.csv").read_text().splitlines()[1:]
    strip = [row.split(",", 1)[1] for row in fit_rows[:10] + fit_rows[40:]]  # score,decision,outlier
    assert [row.split(",", 1)[1] for row in new_rows] == strip
    code, _, err = run_cli([*score, "--out", str(tmp_path / "again.csv"), "--num-samples", "8"], capsys, monkeypatch)
    assert code == 0 and f"scored with the detector saved in {saved}" in err, err


def test_a_saved_image_detector_scores_new_images_as_the_fit_scored_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.datasets import load_digits

    images = (load_digits().images[:40] * 15).astype(np.uint8)  # (N, 8, 8) grey levels
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "new.npy", images[:10])
    saved = tmp_path / "detector"
    fit = ["detect", "--data", str(tmp_path / "images.npy"), "--out", str(tmp_path / "fit.csv"), *FAST]
    code, _, err = run_cli([*fit, "--save", str(saved)], capsys, monkeypatch)
    assert code == 0, err
    score = ["detect", "--data", str(tmp_path / "new.npy"), "--model", str(saved), "--out", str(tmp_path / "new.csv")]
    code, _, err = run_cli(score, capsys, monkeypatch)
    assert code == 0, err
    fitted, new = pd.read_csv(tmp_path / "fit.csv").iloc[:10], pd.read_csv(tmp_path / "new.csv")
    assert list(new.columns) == list(fitted.columns)
    # float32 products of 10 rows and of 40 may differ in the last bits (the BLAS picks kernels by shape)
    scores = [c for c in new.columns if c != "outlier"]
    np.testing.assert_allclose(new[scores].to_numpy(), fitted[scores].to_numpy(), rtol=1e-5, atol=1e-6)
    assert new["outlier"].tolist() == fitted["outlier"].tolist()


def test_saving_over_a_saved_detector_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, saved = write_csv(tmp_path / "t.csv"), tmp_path / "detector"
    seeds = []
    for seed in ("0", "1"):
        args = ["detect", "--data", str(data), "--out", str(tmp_path / "s.csv"), "--save", str(saved), "--seed", seed]
        code, _, err = run_cli([*args, *FAST], capsys, monkeypatch)
        assert code == 0 and f"detector saved in {saved}; score new rows with --model {saved}" in err, err
        seeds.append(json.loads((saved / "detector.json").read_text())["seeds"])
    assert seeds[0] != seeds[1]


@pytest.mark.parametrize(
    ("setup", "extra", "needles"),
    [
        (lambda tmp: None, ["--model", "{saved}", "--epochs", "3"], ["--epochs sets how a detector is fitted", "drop"]),
        (lambda tmp: None, ["--model", "{saved}", "--score", "elbo"], ["--score sets how a detector is fitted"]),
        (lambda tmp: None, ["--model", "{saved}", "--save", "{tmp}/d"], ["--save keeps a detector", "drop --save"]),
        (lambda tmp: None, ["--model", "{tmp}"], ["holds no saved detector", "detector.json is missing", "--save"]),
        (
            lambda tmp: (tmp / "mine").mkdir() or (tmp / "mine" / "notes.txt").write_text("x"),
            ["--save", "{tmp}/mine", *FAST],
            ["is not empty and holds no saved detector", "new or empty folder"],
        ),
        (  # the later --data wins: a file without the saved detector's categorical column
            lambda tmp: (tmp / "other.csv").write_text("a,b,label\n" + "".join(f"{i},{i * 2},0\n" for i in range(9))),
            ["--model", "{saved}", "--data", "{tmp}/other.csv"],
            ["has no column 'colour'"],
        ),
    ],
)
def test_save_and_model_errors_are_one_line_and_write_nothing(  # type: ignore[no-untyped-def]
    setup, extra, needles, saved_detector: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    setup(tmp_path)
    data = write_csv(tmp_path / "t.csv")
    out = tmp_path / "scores.csv"
    args = [arg.format(saved=saved_detector, tmp=tmp_path) for arg in extra]
    code, _, err = run_cli(["detect", "--data", str(data), "--out", str(out), *args], capsys, monkeypatch)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out.exists()
    if (tmp_path / "mine").exists():
        assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_a_series_cannot_be_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    series = tmp_path / "s.csv"
    series.write_text("timestamp,value\n2020-01-01 00:00:00,1\n")
    args = ["detect", "--series", str(series), "--out", str(tmp_path / "o.csv"), "--save", str(tmp_path / "d")]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 1 and "--save and --model apply to --data" in err and not (tmp_path / "d").exists()


@pytest.fixture(scope="module")
def saved_detector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A detector saved by ``vaelab detect --save`` from :func:`write_csv`'s table (label column included)."""
    folder = tmp_path_factory.mktemp("saved")
    args = ["detect", "--data", str(write_csv(folder / "t.csv")), "--out", str(folder / "s.csv")]
    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit) as exit_:
        patch.setattr(sys, "argv", ["vaelab", *args, "--save", str(folder / "d"), *FAST])
        main()
    assert exit_.value.code == 0 and (folder / "d" / "detector.json").is_file()
    return folder / "d"
