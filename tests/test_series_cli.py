"""``vaelab detect --series`` end to end: NAB's output format, labels from a column or NAB's windows file, the
report page, and one-line errors that write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli

FAST = ["--window", "24", "--steps", "100", "--refit-every", "0"]


def write_series(path: Path, n: int = 1000) -> Path:
    """A seasonal series at 5-minute steps with a spike at point 800 (label 1 around it), one missing value
    and one missing timestamp."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    value = np.sin(2 * np.pi * t / 48) + 0.1 * rng.normal(size=n)
    value[800:803] += 4.0
    label = ((t >= 790) & (t < 815)).astype(int)
    frame = pd.DataFrame(
        {"timestamp": pd.date_range("2024-01-01", periods=n, freq="5min"), "value": value, "label": label}
    )
    frame.loc[300, "value"] = np.nan
    frame.drop(index=[400]).to_csv(path, index=False)
    return path


def test_series_scores_every_timestamp_with_metrics_and_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out, report = write_series(tmp_path / "s.csv"), tmp_path / "scores.csv", tmp_path / "report.html"
    args = ["detect", "--series", str(data), "--label-column", "label", "--out", str(out), "--report", str(report)]
    code, stdout, err = run_cli([*args, *FAST, "--json"], capsys, monkeypatch)
    assert code == 0, err
    assert "model: gru network, state-space latents of 3, windows of 24 points, 100 steps per fit" in err
    summary = json.loads(stdout)
    assert summary["points"] == 999 and summary["inserted_points"] == 1 and summary["fits"] == 1
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["timestamp", "anomaly_score", "outlier"] and len(scores) == 999
    assert scores["anomaly_score"].between(0, 1).all() and set(scores["outlier"]) <= {0, 1}
    assert scores["anomaly_score"].iloc[:150].eq(0).all()  # the probationary period is not scored
    spike = scores["timestamp"].eq("2024-01-03 18:40:00")  # point 800 (row 799 after the dropped row)
    assert scores.loc[spike, "anomaly_score"].item() > 0.999
    metrics = summary["metrics"]
    assert metrics["ROC-AUC"] > 0.5 and metrics["best point-adjusted F1"] > 0.5
    assert metrics["NAB standard"] > 0
    page = report.read_text()
    assert "data:image/png;base64," in page and "NAB standard" in page


def test_windows_in_nab_format_batch_mode_prediction_and_onsets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = write_series(tmp_path / "s.csv"), tmp_path / "scores.csv"
    windows = tmp_path / "windows.json"
    windows.write_text(json.dumps({"mine/s.csv": [["2024-01-03 17:50:00.000000", "2024-01-03 19:50:00.000000"]]}))
    args = ["detect", "--series", str(data), "--value-columns", "value", "--windows", str(windows), "--batch"]
    args += ["--series-score", "prediction", "--onset-span", "24"]
    code, stdout, err = run_cli([*args, "--out", str(out), *FAST, "--json"], capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["mode"] == "batch" and summary["scored_from"] == "2024-01-01 00:00:00"
    assert "NAB standard" in summary["metrics"]


@pytest.mark.parametrize("latents", ["step", "state-space"])
def test_a_recurrent_detector_with_latents_per_step(
    latents: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = write_series(tmp_path / "s.csv"), tmp_path / "scores.csv"
    args = ["detect", "--series", str(data), "--label-column", "label", "--network", "gru", "--latents", latents]
    code, stdout, err = run_cli([*args, "--out", str(out), *FAST, "--steps", "60", "--json"], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(stdout)["metrics"]["ROC-AUC"] > 0.5
    assert pd.read_csv(out)["anomaly_score"].between(0, 1).all()
    donut = [*args[:-4], "--network", "donut", "--latents", latents, "--out", str(out), *FAST]
    code, _, err = run_cli(donut, capsys, monkeypatch)
    assert code != 0 and "latents per step need the gru network" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("edit", "extra", "needle"),
    [
        (lambda f: f.replace("2024-01-01 00:10:00", "soon"), [], "line 4: cannot read 'soon'"),
        (lambda f: f.replace("2024-01-01 00:10:00", "2024-01-01 00:05:00"), [], "line 4: timestamp .* repeats"),
        (lambda f: f.replace(",0.5", ",half", 1), [], "column 'value' holds"),
        (lambda f: f, ["--window", "5000"], "the series has 1000 points but the window is 5000"),
        (lambda f: f, ["--value-columns", "speed"], "no column 'speed'"),
    ],
)
def test_bad_series_input_is_one_line_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    edit,  # type: ignore[no-untyped-def]
    extra: list[str],
    needle: str,
) -> None:
    data = tmp_path / "s.csv"
    pd.DataFrame(
        {"timestamp": pd.date_range("2024-01-01", periods=1000, freq="5min"), "value": np.full(1000, 0.5)}
    ).to_csv(data, index=False)
    data.write_text(edit(data.read_text()))
    out = tmp_path / "scores.csv"
    code, _, err = run_cli(["detect", "--series", str(data), "--out", str(out), *FAST, *extra], capsys, monkeypatch)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert pytest.importorskip("re").search(needle, err), err
    assert not out.exists()


def test_a_label_window_outside_the_series_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = write_series(tmp_path / "s.csv"), tmp_path / "scores.csv"
    windows = tmp_path / "w.json"
    windows.write_text(json.dumps([["2025-01-01 00:00:00", "2025-01-02 00:00:00"]]))
    code, _, err = run_cli(
        ["detect", "--series", str(data), "--value-columns", "value", "--windows", str(windows), "--out", str(out)],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "is not inside the series" in err and not out.exists()


def test_one_input_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(["detect", "--out", str(tmp_path / "o.csv")], capsys, monkeypatch)
    assert code == 1 and "give one input" in err


def test_nab_series_read_in_file_order(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared NAB series and NAB's windows file: the repeated hour of machine_temperature needs --time-order
    file; every input row gets a score."""
    nab = data_dir / "nab"
    source = nab / "machine_temperature_system_failure.csv"
    head = tmp_path / "machine_temperature_system_failure.csv"
    lines = source.read_text().splitlines()
    head.write_text("\n".join(lines[:3001]) + "\n")  # the first 3000 rows: no anomaly window inside
    out = tmp_path / "scores.csv"
    args = ["detect", "--series", str(head), "--time-order", "file", "--out", str(out), *FAST, "--json"]
    code, stdout, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(stdout)["points"] == 3000 and len(pd.read_csv(out)) == 3000
