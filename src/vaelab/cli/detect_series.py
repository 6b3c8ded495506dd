"""``vaelab detect --series``: score every timestamp of a series with window VAEs and write NAB's format."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError


@dataclass(frozen=True)
class SeriesOptions:
    """The command line's series options, as given."""

    time_column: str | None
    value_columns: str | None
    time_order: str
    window: int
    mode: str
    network: str
    latents: str | None  # None: the network's default (WindowVAESettings)
    refit_every: int
    steps: int | None
    score: str
    onset_span: int
    risk: float
    threshold: str
    label_column: str | None
    windows: Path | None
    report: Path | None
    seed: int


def detect_series(series_file: Path, out: Path, options: SeriesOptions, as_json: bool) -> None:
    """Read, score, write ``timestamp,anomaly_score,outlier`` (one row per row of the file), then report."""
    from vaelab.applications.series.detector import DetectorSettings, detect, plan
    from vaelab.applications.series.window_vae import WindowVAESettings
    from vaelab.data.series import read_series_csv

    _check_out(out, options.report)
    if options.label_column and options.windows:
        raise UserError("give labels one way: --label-column or --windows, not both")
    value_columns = None if options.value_columns is None else _names(options.value_columns)
    if options.label_column and value_columns is not None:
        value_columns = [*value_columns, options.label_column]
    settings = DetectorSettings(
        model=WindowVAESettings(
            network=options.network,
            latents=options.latents,
            window=options.window,
            steps=options.steps,
            score=options.score,
            seed=options.seed,
        ),
        mode=options.mode,
        refit_every=options.refit_every or None,
        onset_span=options.onset_span,
        risk=options.risk,
        threshold=options.threshold,
    )
    series = read_series_csv(series_file, options.time_column, value_columns, options.time_order)
    series, labels = _split_labels(series_file, series, options.label_column)
    windows = _label_windows(series_file, options, series, labels)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = plan(series.values, settings)  # a series too short for the settings stops here
        model = settings.model
        faster = "; --network donut runs about 17 times faster" if model.network == "gru" else ""
        say(
            f"model: {model.network} network, {model.latents} latents of {model.latent_dim}, windows of "
            f"{model.window} points, {model.steps} steps per fit ({options.mode} mode{faster})"
        )
        result = detect(series.values, settings)
    for warning in caught:
        say(f"warning: {warning.message}")
    rows = series.input_rows
    _write(out, series.timestamps[rows], result.anomaly[rows], result.outlier[rows])
    summary: dict[str, Any] = {
        "points": len(rows),
        "inserted_points": len(series) - len(rows),
        "outliers": int(result.outlier[rows].sum()),
        "mode": options.mode,
        "scored_from": str(np.datetime_as_string(series.timestamps[result.scored_from], unit="s")).replace("T", " "),
        "fits": result.fits,
        "out": str(out),
    }
    metrics = {}
    if windows is not None:
        from vaelab.evaluation.series.summary import series_metrics

        metrics = series_metrics(series.timestamps, result.anomaly, result.outlier, windows, result.scored_from)
        summary["metrics"] = metrics
    if options.report is not None:
        _write_report(options.report, series_file.name, series, result, 1 - options.risk, windows or [], metrics)
        summary["report"] = str(options.report)
    if as_json:
        emit_json(summary)
        return
    say(
        f"{series_file.name}: {summary['outliers']} of {summary['points']} points flagged ({options.mode} mode, "
        f"{result.fits} fit{'s' if result.fits != 1 else ''}; scored from {summary['scored_from']})"
    )
    for name, value in metrics.items():
        say(f"{name}: {value:.4f}")
    say(f"scores written to {out}")


def _check_out(out: Path, report: Path | None) -> None:
    for flag, path in (("--out", out), ("--report", report)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            raise UserError(f"{flag} {path} must be a file in an existing folder")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _split_labels(path: Path, series: Any, label_column: str | None) -> tuple[Any, np.ndarray | None]:
    """The series without its label column, and that column's values (None without one): the file is read
    once, labels with the values."""
    if label_column is None:
        return series, None
    if label_column not in series.columns:
        raise UserError(
            f"{path}: no column {label_column!r} for --label-column; the columns are {', '.join(series.columns)}"
        )
    keep = [i for i, name in enumerate(series.columns) if name != label_column]
    labels = series.values[:, series.columns.index(label_column)]
    values = dataclasses.replace(series, values=series.values[:, keep], columns=tuple(series.columns[i] for i in keep))
    return values, labels


def _label_windows(
    path: Path, options: SeriesOptions, series: Any, labels: np.ndarray | None
) -> list[tuple[int, int]] | None:
    """Labelled windows as grid index ranges: from ``--windows`` or from the 0/1 ``--label-column``."""
    from vaelab.evaluation.series.summary import label_segments, windows_from_file

    if options.windows is not None:
        return windows_from_file(options.windows, path, series.timestamps)
    if labels is None:
        return None
    present = labels[~np.isnan(labels)]
    if not np.isin(present, (0.0, 1.0)).all():
        raise UserError(f"{path}: --label-column {options.label_column!r} must hold 0 or 1 (1 = anomaly)")
    return label_segments(np.nan_to_num(labels, nan=0.0))


def _write(path: Path, timestamps: np.ndarray, anomaly: np.ndarray, outlier: np.ndarray) -> None:
    from vaelab.atomic import atomic_write_text

    stamps = np.datetime_as_string(timestamps, unit="s")
    lines = ["timestamp,anomaly_score,outlier"]
    lines += [f"{t.replace('T', ' ')},{a:.6g},{int(o)}" for t, a, o in zip(stamps, anomaly, outlier, strict=True)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _write_report(
    path: Path, name: str, series: Any, result: Any, threshold: float, windows: list, metrics: dict
) -> None:
    from vaelab.atomic import atomic_write_text
    from vaelab.report.series_report import series_figure, series_page

    figure = series_figure(
        series.timestamps, series.values, series.columns, result.anomaly, result.outlier, threshold,
        result.scored_from, windows,
    )  # fmt: skip
    summary = {
        "points": str(len(series.input_rows)),
        "flagged": str(int(result.outlier.sum())),
        "fits": str(result.fits),
    }
    atomic_write_text(path, series_page(name, summary, figure, metrics))
