"""The semi-supervised benchmark (bench/semi_supervised/): its label draw, its data on the shared binarized MNIST,
its table, and a tiny end-to-end run of every method.

bench/ is not a package and its modules import each other by name (as ``run.py`` does), so the folder is put on
``sys.path``; ``run.py`` and ``table.py`` are loaded under names of their own.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from vaelab.data.semi_supervised import UNLABELLED
from vaelab.errors import UserError

BENCH = Path(__file__).resolve().parents[1] / "bench" / "semi_supervised"
sys.path.insert(0, str(BENCH))
protocol = importlib.import_module("protocol")


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_semi_supervised_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TEST_LABELS = np.repeat(np.arange(10), 1000)  # as the binarized test split holds them: sorted by class


@pytest.mark.parametrize("num_labelled", [100, 600, 1000, 3000])
def test_label_draw_is_balanced_and_disjoint_from_the_evaluation_rows(num_labelled) -> None:
    labelled, evaluation = protocol.split_test_rows(TEST_LABELS, num_labelled, draw=3)
    assert np.bincount(TEST_LABELS[labelled], minlength=10).tolist() == [num_labelled // 10] * 10
    assert len(evaluation) == 10_000 - num_labelled
    assert np.intersect1d(labelled, evaluation).size == 0
    assert np.array_equal(np.sort(np.concatenate([labelled, evaluation])), np.arange(10_000))


def test_label_draws_are_seeded() -> None:
    first, _ = protocol.split_test_rows(TEST_LABELS, 100, draw=0)
    again, _ = protocol.split_test_rows(TEST_LABELS, 100, draw=0)
    other, _ = protocol.split_test_rows(TEST_LABELS, 100, draw=1)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_too_few_labels_for_the_classes_is_one_line() -> None:
    with pytest.raises(UserError, match="fewer labels than the 10 classes"):
        protocol.split_test_rows(TEST_LABELS, 5, draw=0)


def test_unlabelled_subset_is_seeded_sorted_and_bounded() -> None:
    kept = protocol.unlabelled_subset(50_000, 300)
    assert len(kept) == 300 and len(np.unique(kept)) == 300 and np.all(np.diff(kept) > 0)
    assert np.array_equal(kept, protocol.unlabelled_subset(50_000, 300))
    assert np.array_equal(protocol.unlabelled_subset(50, None), np.arange(50))
    assert np.array_equal(protocol.unlabelled_subset(50, 80), np.arange(50))
    with pytest.raises(UserError, match="at least one unlabelled row"):
        protocol.unlabelled_subset(50, 0)


def _result(method: str, draw: int, accuracy: float, **details) -> dict:
    return {"method": method, "n": 100, "draw": draw, "accuracy": accuracy, "seconds": 60.0, "settings": {}, **details}


def test_table_reports_mean_sd_draws_and_the_m2_minus_supervised_difference() -> None:
    table = _load("table")
    results = [
        _result("m2", 0, 0.90, accuracy_best_elbo=0.80, unlabelled_rows=50_000),
        _result("m2", 1, 0.92, accuracy_best_elbo=0.82, unlabelled_rows=50_000),
        _result("supervised", 0, 0.70, unlabelled_rows=0),
        _result("supervised", 1, 0.75, unlabelled_rows=0),
        _result("label_spreading", 0, 0.60, unlabelled_rows=10_000),
    ]
    text = table.markdown(results)
    assert "| M2 (vaelab), last epoch | 91.00 ± 1.41 (2) |" in text
    assert "| M2 (vaelab), epoch of best validation ELBO | 81.00 ± 1.41 (2) |" in text
    assert "| LabelSpreading (kNN, 7) [10,000 unlabelled rows] | 60.00 ± 0.00 (1) |" in text
    assert "| 0 | 90.00 | 70.00 | +20.00 |" in text and "| 1 | 92.00 | 75.00 | +17.00 |" in text
    assert "+18.50 ± 2.12" in text
    assert "| 93.19 | 94.37 | 94.87 | 95.82 |" in text  # Pyro's figures beside them
    assert "| M2 (vaelab), last epoch | 1.00 |" in text  # median training minutes


@pytest.mark.shared_data
def test_protocol_on_the_shared_data(data_dir) -> None:
    drawn = protocol.load_protocol(100, draw=0, data_dir=data_dir, unlabelled_limit=1000)
    assert drawn.train.y is not None and drawn.train.y.dtype == np.int64 and drawn.train.num_classes == 10
    assert len(drawn.train) == 1100 and drawn.num_unlabelled == 1000
    assert (drawn.train.y[:1000] == UNLABELLED).all()
    assert np.bincount(drawn.train.y[1000:], minlength=10).tolist() == [10] * 10
    assert len(drawn.evaluation) == 9900 and np.intersect1d(drawn.labelled_rows, drawn.evaluation_rows).size == 0
    test = protocol.load_dataset(protocol.DATASET, "test", data_dir)
    assert np.array_equal(drawn.labelled.x, test.x[drawn.labelled_rows])
    assert np.array_equal(drawn.evaluation.y, test.y[drawn.evaluation_rows])
    assert len(drawn.valid) == 10_000 and drawn.valid.y is None


@pytest.mark.shared_data
def test_every_method_end_to_end_writes_one_result_each_and_keeps_them(data_dir, tmp_path, capsys) -> None:
    run = _load("run")
    argv = [
        *("--data-dir", str(data_dir), "--out", str(tmp_path), "--n", "100", "--draws", "0"),
        *("--epochs", "1", "--unlabelled-limit", "300", "--supervised-steps", "20", "--hidden", "32"),
        *("--latent-dim", "4", "--batch-size", "100", "--labelled-per-batch", "20"),
    ]
    run.main(argv)
    paths = sorted(tmp_path.glob("*.json"))
    assert [p.name for p in paths] == [f"{m}-n100-draw0.json" for m in sorted(run.METHODS)]
    for path in paths:
        result = json.loads(path.read_text())
        assert 0.0 <= result["accuracy"] <= 1.0 and result["seconds"] > 0
        assert result["evaluation_rows"] == 9900 and result["unlabelled_limit"] == 300
    m2 = json.loads((tmp_path / "m2-n100-draw0.json").read_text())
    assert m2["unlabelled_rows"] == 300 and len(m2["accuracy_by_epoch"]) == 1
    assert m2["accuracy"] == m2["accuracy_by_epoch"][-1]
    assert capsys.readouterr().out.count("accuracy") == len(run.METHODS)
    before = {p: p.stat().st_mtime_ns for p in paths}
    run.main(argv)  # every result is there: nothing runs again
    assert capsys.readouterr().out == ""
    assert {p: p.stat().st_mtime_ns for p in paths} == before
