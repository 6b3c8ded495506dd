"""Series as data: the .csv reader (grid, missing points, errors naming the line), scaling, windows as a view,
and missing values becoming masked batch entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.data.batch import stored_batch
from vaelab.data.series import Scaler, read_series_csv, sliding_windows
from vaelab.errors import UserError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.csv"
    path.write_text(text)
    return path


def test_reads_nab_format_with_gaps_and_missing_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timestamp,value\n"
        "2014-07-01 00:00:00,1.5\n"
        "2014-07-01 00:30:00,\n"  # a missing value
        "2014-07-01 01:00:00,2\n"
        "2014-07-01 02:30:00,3\n"  # two grid points missing before it
        "2014-07-01 03:00:00,4\n",
    )
    series = read_series_csv(path)
    assert series.columns == ("value",)
    assert len(series) == 7 and series.input_rows.tolist() == [0, 1, 2, 5, 6]
    np.testing.assert_array_equal(series.observed[:, 0], [True, False, True, False, False, True, True])
    assert series.values[series.input_rows[3], 0] == 3.0
    assert str(series.timestamps[3]) == "2014-07-01T01:30:00.000000000"


def test_a_gap_that_is_not_a_whole_number_of_steps_is_kept(tmp_path: Path) -> None:
    minutes = [0, 10, 20, 35, 45]  # the 15-minute gap is 1.5 steps
    text = "t,a,b\n" + "".join(f"2020-01-01 00:{m:02d}:00,1,2\n" for m in minutes)
    series = read_series_csv(write(tmp_path, text), time_column="t")
    assert series.values.shape == (5, 2) and series.input_rows.tolist() == [0, 1, 2, 3, 4]


def test_named_columns_and_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "time,x,y\n2020-01-01 00:00,1,10\n2020-01-01 00:05,2,20\n2020-01-01 00:05,3,30\n2020-01-01 00:10,4,40\n",
    )
    with pytest.raises(UserError, match=r"line 4: timestamp 2020-01-01 00:05 repeats .*--time-order file"):
        read_series_csv(path, time_column="time")
    series = read_series_csv(path, time_column="time", value_columns=["y"], time_order="file")
    assert series.columns == ("y",) and series.values[:, 0].tolist() == [10, 20, 30, 40]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("timestamp,value\n2020-01-01,1\nyesterday,2\n", r"line 3: cannot read 'yesterday' in column 'timestamp'"),
        ("timestamp,value\n2020-01-02,1\n2020-01-01,2\n", r"line 3: timestamp 2020-01-01 comes before"),
        ("timestamp,value\n2020-01-01,1\n2020-01-02,high\n", r"line 3: column 'value' holds 'high'"),
        ("timestamp,value\n", "no rows"),
        ("timestamp\n2020-01-01\n", "no value column"),
    ],
)
def test_bad_files_name_the_line_or_column(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(UserError, match=needle):
        read_series_csv(write(tmp_path, text))


def test_unknown_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,value\n2020-01-01,1\n")
    with pytest.raises(UserError, match="no column 'v' for --value-columns; the columns are timestamp, value"):
        read_series_csv(path, value_columns=["v"])
    with pytest.raises(UserError, match="no column 'when' for --time-column"):
        read_series_csv(path, time_column="when")


def test_scaler_uses_the_training_part_and_ignores_missing_values() -> None:
    values = np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0], [100.0, 7.0]], dtype=np.float32)
    scaler = Scaler.fit(values[:3])
    np.testing.assert_allclose(scaler.mean, [2.0, 5.0])
    np.testing.assert_allclose(scaler.std, [1.0, 1.0])  # a column with no spread keeps unit scale
    assert scaler(values)[3, 0] == pytest.approx(98.0) and np.isnan(scaler(values)[2, 0])


def test_windows_are_a_view_in_order() -> None:
    values = np.arange(20, dtype=np.float32).reshape(10, 2)
    windows = sliding_windows(values, 4, stride=3)
    assert windows.shape == (3, 4, 2) and np.shares_memory(windows, values)
    np.testing.assert_array_equal(windows[1], values[3:7])
    with pytest.raises(UserError, match="the series has 10 points but the window is 11"):
        sliding_windows(values, 11)


def test_missing_values_become_masked_entries() -> None:
    x = np.array([[[1.0], [np.nan]], [[3.0], [4.0]]], dtype=np.float32)
    batch = stored_batch(x, None, None, "cpu")
    assert batch.mask is not None and batch.mask.tolist() == [[[True], [False]], [[True], [True]]]
    assert batch.x[0, 1, 0] == 0.0 and bool(torch.isfinite(batch.x).all())
    assert stored_batch(x[1:], None, None, "cpu").mask is None
