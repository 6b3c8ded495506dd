"""The synthetic-table benchmark's Adult reader (bench/synthetic/adult.py) against the shared UCI files.

bench/ is not a package, so the module is loaded by path. Counts are those of shared/data/adult/SOURCE.md.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

MODULE_PATH = Path(__file__).resolve().parents[1] / "bench" / "synthetic" / "adult.py"
_spec = importlib.util.spec_from_file_location("bench_synthetic_adult", MODULE_PATH)
assert _spec is not None and _spec.loader is not None
adult = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(adult)

pytestmark = pytest.mark.shared_data


@pytest.fixture
def adult_dir(data_dir: Path) -> Path:
    """shared/data/adult (or $VAELAB_DATA_DIR/adult); skips when absent."""
    folder = data_dir / "adult"
    if not (folder / "adult.data").is_file() or not (folder / "adult.test").is_file():
        pytest.skip(f"needs {folder}/adult.data and adult.test: the shared Adult files are absent")
    return folder


@pytest.mark.parametrize(
    ("name", "rows", "negatives", "positives", "rows_with_missing"),
    [("adult.data", 32_561, 24_720, 7_841, 2_399), ("adult.test", 16_281, 12_435, 3_846, 1_221)],
)
def test_read_adult_counts_and_types(adult_dir, name, rows, negatives, positives, rows_with_missing):
    df = adult.read_adult(adult_dir / name)
    assert list(df.columns) == adult.COLUMNS
    assert len(df) == rows
    assert df[adult.TARGET].value_counts().to_dict() == {"<=50K": negatives, adult.POSITIVE: positives}
    for col in adult.NUMERIC:
        assert df[col].dtype == "int64", col
    for col in adult.CATEGORICAL:
        assert df[col].dtype == object, col
        values = df[col].astype(str)
        assert not values.str.startswith(" ").any(), col
        assert not values.str.endswith(" ").any(), col
    assert not df[adult.TARGET].str.endswith(".").any()
    # '?' is kept as a category of its own by default, only in the three columns that have it
    assert (df == "?").any(axis=1).sum() == rows_with_missing
    assert set(df.columns[(df == "?").any()]) == {"workclass", "occupation", "native-country"}
    assert df.notna().all().all()


def test_read_adult_missing_as_nan(adult_dir):
    df = adult.read_adult(adult_dir / "adult.test", missing="nan")
    assert df.isna().any(axis=1).sum() == 1_221
    assert not (df == "?").any().any()
    assert math.isnan(df.loc[df["workclass"].isna(), "workclass"].iloc[0])
    with pytest.raises(ValueError, match="missing"):
        adult.read_adult(adult_dir / "adult.test", missing="drop")


def test_write_adult_csv_round_trips(adult_dir, tmp_path):
    out = adult.write_adult_csv(tmp_path / "adult.csv", source=adult_dir / "adult.data")
    assert out.read_text().splitlines()[0] == ",".join(adult.COLUMNS)
    back = pd.read_csv(out, keep_default_na=False)
    back[adult.CATEGORICAL] = back[adult.CATEGORICAL].astype(object)  # pandas 3 reads strings as StringDtype
    pd.testing.assert_frame_equal(back, adult.read_adult(adult_dir / "adult.data"))
