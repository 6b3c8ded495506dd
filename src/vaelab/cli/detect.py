"""``vaelab detect``: fit a VAEDetector on a table (or images) and write every row's score and flag (``--save``
keeps the fitted detector, ``--model`` scores new rows with a saved one), or score a time series
(``detect_series``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.applications.anomaly.defaults import DEFAULT_SCORE
from vaelab.cli.choices import DETECT_RATE_WEIGHTS, DETECT_TRAIN_ROWS, SCORES, listed
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option
TABLE_WEIGHT, IMAGE_WEIGHT = DETECT_RATE_WEIGHTS

FITTING_OPTIONS = (
    "contamination",
    "score",
    "rate_weight",
    "max_train_rows",
    "categorical",
    "missing",
    "epochs",
    "seed",
    "progress",
)
"""Options that shape a fit (the threshold included: it is set on the training rows' scores); with ``--model`` the
saved detector scores as it was saved, so they are refused there."""


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
    ctx: typer.Context,
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
    save: Annotated[
        Path | None,
        Opt(help="folder to keep the fitted detector in (new, empty or a saved one), to score new rows with --model"),
    ] = None,
    model: Annotated[
        Path | None,
        Opt(help="folder of a detector saved with --save: score DATA with it, without fitting (same columns)"),
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
            help="KL weight w of the rate-weighted score (reconstruction - w KL); 1 gives the ELBO [default: "
            f"{TABLE_WEIGHT:g} for tables, {IMAGE_WEIGHT:g} for images]"
        ),
    ] = None,
    num_samples: Annotated[int | None, Opt(help="posterior samples per row (default: the score's)")] = None,
    categorical: Annotated[str | None, Opt(help="comma-separated CSV columns to one-hot encode")] = None,
    missing: Annotated[str, Opt(help="error | impute: what to do with empty cells and NaN")] = "error",
    epochs: Annotated[int | None, Opt(help="training epochs (default: chosen from the data's size)")] = None,
    max_train_rows: Annotated[
        int, Opt(help="fit on a random subsample of this many rows when there are more; 0: every row")
    ] = DETECT_TRAIN_ROWS,
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
    network: Annotated[
        str, Opt(help="series: gru (recurrent; chosen on NAB's corpus) | donut (MLP over the window: ~17x faster)")
    ] = "gru",
    latents: Annotated[
        str | None,
        Opt(
            help="series: window (one latent per window) | step (gru: one per step) | state-space (gru: one per step "
            "under OmniAnomaly's state-space prior) [default: state-space for gru, window for donut]"
        ),
    ] = None,
    refit_every: Annotated[int, Opt(help="series, causal: points between refits on all seen so far (0: never)")] = 2000,
    steps: Annotated[
        int | None, Opt(help="series: optimisation steps per fit [default: 300 for gru, 1500 for donut]")
    ] = None,
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
    threshold: Annotated[
        str,
        Opt(
            help="series: pot (fixed per fit, from the held-out scores) | spot (the same, then updated by each "
            "normal point in turn, Siffer et al. 2017) | quantile (the 0.99 quantile of the held-out scores)"
        ),
    ] = "pot",
    windows: Annotated[Path | None, Opt(help="series: JSON of labelled [start, end] windows (NAB's format)")] = None,
    report: Annotated[Path | None, Opt(help="series: HTML page to write with the series, scores and metrics")] = None,
    as_json: Annotated[bool, Opt("--json", help="print the summary as JSON on stdout")] = False,
) -> None:
    """Score every row of DATA with VAEs fitted on DATA itself (two for a table, one for images), or every
    timestamp of a SERIES.

    Rows (--data): the score is in nats, higher = more normal (by default the ELBO for tables, the
    reconstruction log-likelihood minus 4 times the KL for images: a lower bound on log p(x)); decision = score -
    threshold; outlier = 1 where decision < 0. --save DIR keeps the fitted detector; --model DIR scores
    DATA with a saved one instead of fitting (options that shape a fit are refused; --num-samples and
    --device apply).

    Series (--series): anomaly_score in [0, 1], higher = more anomalous (as NAB expects): the probability
    that a normal point scores lower, from the scores of the recent points the model held out of its
    training; outlier = 1 at or above 1 - risk.
    Causal by default: each point is scored by a model that has seen only earlier points.
    """
    if (data is None) == (series is None):
        raise UserError("give one input: --data FILE (rows of a table, images) or --series FILE.csv (a time series)")
    if series is not None:
        if save is not None or model is not None:
            raise UserError("--save and --model apply to --data (tables, images); a series is fitted as it is scored")
        from vaelab.cli.detect_series import SeriesOptions, detect_series

        options = SeriesOptions(
            time_column, value_columns, time_order, window, "causal" if causal else "batch", network, latents,
            refit_every, steps, series_score, onset_span, risk, threshold, label_column, windows, report, seed,
        )  # fmt: skip
        detect_series(series, out, options, as_json)
        return
    assert data is not None
    if out.is_dir() or not out.parent.is_dir():
        raise UserError(f"--out {out} must be a file in an existing folder (the scores CSV to write)")
    if model is None:
        names = [] if categorical is None else [name.strip() for name in categorical.split(",") if name.strip()]
        settings = {
            "score_type": score,
            "rate_weight": rate_weight,
            "num_samples": num_samples,
            "contamination": _contamination(contamination),
            "missing": missing,
            "epochs": epochs,
            "max_train_rows": _max_train_rows(max_train_rows),
            "random_state": seed,
            "device": device,
            "verbose": progress,
        }
        detector, rows, decision = _fit_and_score(data, label_column, names, settings, save)
    else:
        _refuse_fitting_options(ctx, model)
        detector, rows, decision = _score_with_saved(model, data, label_column, num_samples, device)
    scores = decision + detector.offset_
    flags = (decision < 0).astype(int)
    _write_scores(out, scores, decision, flags)
    summary: dict[str, Any] = {
        "rows": len(scores),
        "outliers": int(flags.sum()),
        "threshold": detector.offset_,
        "score": detector.score_type,
        "detector": "fitted" if model is None else str(model),
        "out": str(out),
    }
    if model is None:
        summary["train_rows"] = detector.n_train_rows_
    if save is not None:
        summary["saved"] = str(save)
    if rows.y is not None:
        summary.update(_label_metrics(rows.y, -scores))
    if as_json:
        emit_json(summary)
        return
    _say_summary(data, summary, labelled=rows.y is not None)


def _max_train_rows(count: int) -> int | None:
    if count < 0:
        raise UserError(f"--max-train-rows must be a number of rows, or 0 for every row; got {count}")
    return count or None


def _refuse_fitting_options(ctx: typer.Context, model: Path) -> None:
    """With ``--model`` a saved detector scores as it was saved: an option that shapes a fit is an error."""
    if _on_command_line(ctx, "save"):
        raise UserError(f"--save keeps a detector this command fits; --model {model} fits none: drop --save")
    given = [name for name in FITTING_OPTIONS if _on_command_line(ctx, name)]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UserError(
            f"{flag} sets how a detector is fitted (its threshold included); --model {model} scores as it was "
            f"saved: drop {flag}, or fit a new detector without --model"
        )


def _on_command_line(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given (rather than left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _fit_and_score(
    data: Path, label_column: str | None, categorical: list[str], settings: dict[str, Any], save: Path | None
) -> tuple[Any, Any, Any]:
    """A detector fitted on ``data`` (saved in ``save``, if given), the rows and their decision values."""
    from vaelab.applications.anomaly import VAEDetector
    from vaelab.applications.anomaly.saving import check_save_target
    from vaelab.applications.anomaly.table_file import read_detect_input

    if save is not None:
        check_save_target(save)
    rows = read_detect_input(data, label_column, categorical, settings["missing"])
    detector = VAEDetector(categorical_columns=rows.categorical, **settings)
    x = _detector_input(rows)
    decision = _warnings_said(lambda: detector.fit(x).decision_function(x))
    if save is not None:
        detector.save(save)
    return detector, rows, decision


def _score_with_saved(
    model: Path, data: Path, label_column: str | None, num_samples: int | None, device: str
) -> tuple[Any, Any, Any]:
    """The detector saved in ``model``, the rows of ``data`` read with its columns, and their decision values.
    ``num_samples`` (the precision of the score's estimate) may differ from the saved one."""
    from vaelab.applications.anomaly import VAEDetector
    from vaelab.applications.anomaly.table_file import read_detect_input

    detector = VAEDetector.load(model, device=device)
    if num_samples is not None:
        detector.set_params(num_samples=num_samples)
    categorical = _saved_categorical(detector, data)
    rows = read_detect_input(data, label_column, categorical, detector.missing)
    return detector, rows, _warnings_said(lambda: detector.decision_function(_detector_input(rows)))


def _saved_categorical(detector: Any, data: Path) -> list[str]:
    """The .csv columns a saved detector one-hot encodes, by name (known when it was fitted on a .csv)."""
    names = getattr(detector, "feature_names_in_", None)
    if names is None or data.suffix.lower() != ".csv":
        return []
    return [str(names[i]) for i in getattr(detector.preprocessor_, "categorical_", [])]


def _detector_input(rows: Any) -> Any:
    """A .csv's rows as a DataFrame of its columns (so a saved detector knows their names), arrays as they are."""
    if rows.columns is None:
        return rows.x
    import numpy as np
    import pandas as pd

    return pd.DataFrame(
        {
            name: rows.x[:, i] if i in rows.categorical else rows.x[:, i].astype(np.float64)
            for i, name in enumerate(rows.columns)
        },
        index=range(len(rows.x)),  # the row count, even without columns
    )


def _warnings_said(run: Callable[[], Any]) -> Any:
    """``run()``, with each warning it raises said as a line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    for warning in caught:
        say(f"warning: {warning.message}")
    return result


def _say_summary(data: Path, summary: dict[str, Any], labelled: bool) -> None:
    threshold = summary["threshold"]
    if summary["detector"] != "fitted":
        say(f"scored with the detector saved in {summary['detector']}")
    if summary.get("train_rows", summary["rows"]) < summary["rows"]:
        say(f"fitted on a random {summary['train_rows']:,} of the {summary['rows']:,} rows (--max-train-rows)")
    say(f"{data.name}: {summary['outliers']} of {summary['rows']} rows flagged (score < {threshold:.3f})")
    if "roc_auc" in summary:
        say(f"ROC-AUC {summary['roc_auc']:.4f}  average precision {summary['average_precision']:.4f}")
    elif labelled:
        say("the labels hold one class only, so ROC-AUC and average precision are undefined")
    say(f"scores written to {summary['out']}")
    if "saved" in summary:
        say(f"detector saved in {summary['saved']}; score new rows with --model {summary['saved']}")


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
