"""The page of ``vaelab detect --series --report``: the series with its labelled windows and flagged points,
the anomaly score against the threshold, and the metrics when labels are known."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from vaelab.report.html import Image, Page, Section, Table, render
from vaelab.report.plots import to_png


def series_figure(
    timestamps: np.ndarray,
    values: np.ndarray,
    columns: Sequence[str],
    anomaly: np.ndarray,
    outlier: np.ndarray,
    threshold: float,
    scored_from: int,
    windows: Sequence[tuple[int, int]],
) -> bytes:
    """Two panels sharing the time axis: the values (labelled windows shaded, flagged points marked) and the
    anomaly score with its threshold (the unscored start shaded)."""
    fig = Figure(figsize=(11, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for c, name in enumerate(columns):
        top.plot(timestamps, values[:, c], lw=0.7, label=name)
    flagged = np.flatnonzero(outlier)
    if len(flagged):
        top.scatter(
            timestamps[flagged], np.nanmax(values[flagged], axis=1), s=12, c="crimson", zorder=3, label="outlier"
        )
    bottom.plot(timestamps, anomaly, lw=0.7, c="black")
    bottom.axhline(threshold, c="crimson", ls="--", lw=0.8, label=f"threshold {threshold:.4g}")
    for axis in (top, bottom):
        for start, end in windows:
            axis.axvspan(timestamps[start], timestamps[end], color="gold", alpha=0.3, lw=0)
    if scored_from > 0:
        bottom.axvspan(timestamps[0], timestamps[scored_from - 1], color="grey", alpha=0.2, lw=0, label="training only")
    top.set_ylabel("value")
    bottom.set_ylabel("anomaly score")
    bottom.set_ylim(-0.02, 1.02)
    top.legend(loc="upper left", fontsize=8)
    bottom.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return to_png(fig)


def series_page(name: str, summary: Mapping[str, str], figure: bytes, metrics: Mapping[str, float]) -> str:
    """The HTML page for one scored series."""
    blocks: list = [Image(figure, "series and anomaly score", "labelled windows in yellow; flagged points in red")]
    if metrics:
        rows = [[key, f"{value:.4f}"] for key, value in metrics.items()]
        blocks.append(Table(["metric", "value"], rows, "after the period the detector only learns from"))
    section = Section("scores", "Series and scores", "", blocks)
    page = Page(f"vaelab detect: {name}", "time-series anomaly detection", list(summary.items()), [section], "vaelab")
    return render(page)
