"""``vaelab detect`` end to end: the scores file, the label metrics, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

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
