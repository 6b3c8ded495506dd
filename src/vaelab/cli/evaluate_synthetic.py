"""``vaelab eval RUN --synthetic``: the quality of a table model's synthetic rows, written into the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vaelab.atomic import atomic_write_text
from vaelab.cli.common import load_run, run_data
from vaelab.cli.output import emit_json, say
from vaelab.data.schema import Feature, feature_from_dict
from vaelab.errors import UserError

OUTPUT = "eval-synthetic.json"


def evaluate_synthetic(
    run_dir: Path,
    data: str | None,
    target: str | None,
    positive: str | None,
    rows: int | None,
    seed: int,
    as_json: bool,
) -> None:
    """Sample as many rows as the model trained on (or ``rows``), score them against the training rows and the
    real rows held out from training, write ``RUN/eval-synthetic.json`` and print the figures."""
    from vaelab.applications.synthetic.quality import table_quality
    from vaelab.applications.synthetic.tabular_vae import SETTINGS_FILE

    if rows is not None and rows < 1:
        raise UserError("--rows must be at least 1")
    if (run_dir / SETTINGS_FILE).is_file():
        train, test, synthetic, features = _tabular_tables(run_dir, data, rows, seed)
    else:
        train, test, synthetic, features = _run_tables(run_dir, data, rows, seed)
    figures = table_quality(train, test, synthetic, features, target, positive, seed)
    figures = {"train_rows": len(train), "test_rows": len(test), "synthetic_rows": len(synthetic), **figures}
    atomic_write_text(run_dir / OUTPUT, json.dumps(figures, indent=2))
    if as_json:
        emit_json(figures)
        return
    say(f"{len(synthetic)} synthetic rows against {len(train)} training and {len(test)} held-out rows")
    say(
        f"  column shapes {_shown(figures['column_shapes'])}  "
        f"column-pair trends {_shown(figures['column_pair_trends'])}"
    )
    if "ml_efficacy_f1" in figures:
        say(
            f"  ML efficacy F1 {_shown(figures['ml_efficacy_f1'])} "
            f"(the real training rows: {_shown(figures['ml_efficacy_f1_real'])})"
        )
    say(
        f"  closest-record distance p5/median: synthetic {_shown(figures['dcr_synthetic_p5'])}/"
        f"{_shown(figures['dcr_synthetic_median'])}, held-out {_shown(figures['dcr_holdout_p5'])}/"
        f"{_shown(figures['dcr_holdout_median'])}; exact copies {_shown(figures['exact_copies'])}"
    )
    say(f"written to {run_dir / OUTPUT}")


def _shown(value: float | None) -> str:
    """A score with three decimals, or "undefined" (None: e.g. a correlation with a constant column)."""
    return "undefined" if value is None else f"{value:.3f}"


def _tabular_tables(
    run_dir: Path, data: str | None, rows: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, tuple[Feature, ...]]:
    """A model saved by ``vaelab synth --save``: its .csv split as it was for fitting."""
    from vaelab.applications.synthetic.csv_frames import read_csv_frame
    from vaelab.applications.synthetic.tabular_vae import TabularVAE
    from vaelab.cli.synth import DATA_FILE

    estimator = TabularVAE.load(run_dir)
    if data is None:
        try:
            data = str(json.loads((run_dir / DATA_FILE).read_text(encoding="utf-8"))["data"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{run_dir} does not say which .csv it was fitted on; pass --data FILE.csv") from None
    frame = read_csv_frame(Path(data))
    estimator.check_table(frame)
    split = estimator.split_rows(len(frame))
    if "valid" not in split:
        raise UserError(f"{data}: the model held out no rows to compare with; fit with validation > 0")
    train, test = frame.iloc[split["train"]], frame.iloc[split["valid"]]
    synthetic = estimator.sample(rows or len(train), random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True), synthetic, estimator.features_


def _run_tables(
    run_dir: Path, data: str | None, rows: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, tuple[Feature, ...]]:
    """A run of ``vaelab train`` on a .csv: its training and test splits, and rows drawn from p(x|z)."""
    import torch

    from vaelab.applications.synthetic.frames import features_frame

    model = load_run(run_dir)
    if model.spec.get("columns") is None:
        raise UserError("--synthetic evaluates models of a table read from a .csv (vaelab train or vaelab synth)")
    if model.is_conditional:
        raise UserError("--synthetic samples without a condition: use a model saved by vaelab synth --save")
    features = tuple(feature_from_dict(f) for f in model.spec["columns"])

    train = run_data(run_dir, model, data, "train")
    test = run_data(run_dir, model, data, "test")
    torch.manual_seed(seed)
    synthetic = model.sample(rows or len(train), mean=False).numpy()
    return (
        features_frame(np.asarray(train.x), features),
        features_frame(np.asarray(test.x), features),
        features_frame(synthetic, features, clip=True),  # within the training range, as vaelab sample writes
        features,
    )
