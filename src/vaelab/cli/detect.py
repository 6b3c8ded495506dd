"""``vaelab detect``: fit a VAEDetector on a table (or images) and write every row's score and flag, or score a
time series (``detect_series``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.applications.anomaly.defaults import DEFAULT_SCORE
from vaelab.cli.choices import SCORES, listed
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option


def _contamination(text: str) -> str | float:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 0.5:
        raise UserError(f"--contamination must be 'auto' or a fraction in (0, 0.5], such as 0.05; got {text!r}")
    return value


def detect(
    out: Annotated[
        Path,
        Opt(help="CSV to write: row,score,decision,outlier (tables, images); timestamp,anomaly_score,outlier (series)"),
    ],
    data: Annotated[
        Path | None, Opt(help=".csv (with a header), .npy or .npz (rows under x, labels under y) file of rows")
    ] = None,
    series: Annotated[
        Path | None, Opt(help=".csv of a time series: a timestamp column and value columns (NAB's format is one)")
    ] = None,
    label_column: Annotated[
        str | None,
        Opt(help="column (or .npz key) of 0/1 labels, 1 = anomaly: reports ROC-AUC and AP (series: NAB scores, F1)"),
    ] = None,
    contamination: Annotated[str, Opt(help="'auto' or the expected fraction of outliers, e.g. 0.05")] = "auto",
    score: Annotated[str, Opt(help=listed(SCORES))] = DEFAULT_SCORE,
    rate_weight: Annotated[
        float | None,
        Opt(
            help="KL weight w of the rate-weighted score (reconstruction - w KL); 1 gives the ELBO [default: 16 "
            "for tables, 4 for images]"
        ),
    ] = None,
    num_samples: Annotated[int | None, Opt(help="posterior samples per row (default: the score's)")] = None,
    categorical: Annotated[str | None, Opt(help="comma-separated CSV columns to one-hot encode")] = None,
    missing: Annotated[str, Opt(help="error | impute: what to do with empty cells and NaN")] = "error",
    epochs: Annotated[int | None, Opt(help="training epochs (default: chosen from the data's size)")] = None,
    seed: Annotated[int, Opt(help="random seed")] = 0,
    device: Annotated[str, Opt(help="cpu | cuda | cuda:N")] = "cpu",
    progress: Annotated[bool, Opt(help="show the training progress")] = False,
    time_column: Annotated[
        str | None, Opt(help="series: the timestamp column [default: timestamp, else the first]")
    ] = None,
    value_columns: Annotated[
        str | None, Opt(help="series: comma-separated value columns [default: all others]")
    ] = None,
    time_order: Annotated[
        str, Opt(help="series: strict (timestamps must increase) | file (rows in file order, repeats allowed)")
    ] = "strict",
    window: Annotated[int, Opt(help="series: points per window")] = 60,
    causal: Annotated[
        bool,
        Opt(
            "--causal/--batch",
            help="series: learn only from the past (the first 15 %%, at most 750 points, then refits) or from the "
            "whole file (batch: for exploring, not for measuring a detector); each fit holds out the last fifth of "
            "its points to calibrate the scores",
        ),
    ] = True,
    network: Annotated[str, Opt(help="series: donut (MLP over the window) | gru (recurrent)")] = "donut",
    refit_every: Annotated[int, Opt(help="series, causal: points between refits on all seen so far (0: never)")] = 2000,
    steps: Annotated[int, Opt(help="series: optimisation steps per fit")] = 1500,
    series_score: Annotated[
        str,
        Opt(
            "--series-score",
            help="series: reconstruction (the point as the model reconstructs its window) | prediction (the point "
            "imputed from the window before it, then scored)",
        ),
    ] = "reconstruction",
    onset_span: Annotated[
        int, Opt(help="series: keep a score only where it tops the scores of this many points before it (0: off)")
    ] = 480,
    risk: Annotated[float, Opt(help="series: probability that a normal point is flagged (POT threshold)")] = 1e-3,
    windows: Annotated[Path | None, Opt(help="series: JSON of labelled [start, end] windows (NAB's format)")] = None,
    report: Annotated[Path | None, Opt(help="series: HTML page to write with the series, scores and metrics")] = None,
    as_json: Annotated[bool, Opt("--json", help="print the summary as JSON on stdout")] = False,
) -> None:
    """Score every row of DATA with a VAE fitted on DATA itself, or every timestamp of a SERIES.

    Rows (--data): the score is in nats, higher = more normal (by default the reconstruction log-likelihood
    minus 16 times the KL for tables, 4 times for images: a lower bound on log p(x)); decision = score -
    threshold; outlier = 1 where decision < 0.

    Series (--series): anomaly_score in [0, 1], higher = more anomalous (as NAB expects): the probability
    that a normal point scores lower, from the scores of the recent points the model held out of its
    training; outlier = 1 at or above 1 - risk.
    Causal by default: each point is scored by a model that has seen only earlier points.
    """
    if (data is None) == (series is None):
        raise UserError("give one input: --data FILE (rows of a table, images) or --series FILE.csv (a time series)")
    if series is not None:
        from vaelab.cli.detect_series import SeriesOptions, detect_series

        options = SeriesOptions(
            time_column, value_columns, time_order, window, "causal" if causal else "batch", network, refit_every,
            steps, series_score, onset_span, risk, label_column, windows, report, seed,
        )  # fmt: skip
        detect_series(series, out, options, as_json)
        return
    assert data is not None
    from vaelab.applications.anomaly import VAEDetector
    from vaelab.applications.anomaly.preprocessing import ConstantColumnsWarning
    from vaelab.applications.anomaly.table_file import read_detect_input

    names = [] if categorical is None else [name.strip() for name in categorical.split(",") if name.strip()]
    if out.is_dir() or not out.parent.is_dir():
        raise UserError(f"--out {out} must be a file in an existing folder (the scores CSV to write)")
    rows = read_detect_input(data, label_column, names, missing)
    detector = VAEDetector(
        score_type=score,
        rate_weight=rate_weight,
        num_samples=num_samples,
        contamination=_contamination(contamination),
        missing=missing,
        categorical_columns=rows.categorical,
        epochs=epochs,
        random_state=seed,
        device=device,
        verbose=progress,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decision = detector.fit(rows.x).decision_function(rows.x)
    for warning in caught:
        message = warning.message
        if isinstance(message, ConstantColumnsWarning) and rows.columns is not None:  # positions -> CSV names
            message = ConstantColumnsWarning([rows.columns[int(position)] for position in message.columns])
        say(f"warning: {message}")
    scores = decision + detector.offset_
    flags = (decision < 0).astype(int)
    _write_scores(out, scores, decision, flags)
    summary: dict[str, Any] = {
        "rows": len(scores),
        "outliers": int(flags.sum()),
        "threshold": detector.offset_,
        "score": score,
        "out": str(out),
    }
    if rows.y is not None:
        summary.update(_label_metrics(rows.y, -scores))
    if as_json:
        emit_json(summary)
        return
    say(f"{data.name}: {summary['outliers']} of {summary['rows']} rows flagged (score < {detector.offset_:.3f})")
    if "roc_auc" in summary:
        say(f"ROC-AUC {summary['roc_auc']:.4f}  average precision {summary['average_precision']:.4f}")
    elif rows.y is not None:
        say("the labels hold one class only, so ROC-AUC and average precision are undefined")
    say(f"scores written to {out}")


def _label_metrics(y: Any, anomaly: Any) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(set(y.tolist())) < 2:
        return {}
    return {
        "roc_auc": float(roc_auc_score(y, anomaly)),
        "average_precision": float(average_precision_score(y, anomaly)),
    }


def _write_scores(path: Path, scores: Any, decision: Any, flags: Any) -> None:
    from vaelab.atomic import atomic_write_text

    lines = ["row,score,decision,outlier"]
    lines += [f"{i},{s:.6g},{d:.6g},{f}" for i, (s, d, f) in enumerate(zip(scores, decision, flags, strict=True))]
    atomic_write_text(path, "\n".join(lines) + "\n")
