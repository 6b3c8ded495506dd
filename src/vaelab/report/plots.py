"""Charts for the report, drawn with matplotlib's Agg renderer straight to PNG bytes.

Figures are built with ``matplotlib.figure.Figure`` and rendered by ``FigureCanvasAgg``, never through
pyplot, so no GUI backend or global figure state is involved.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vaelab.report.run_files import hyperparameter_keys, term_keys

DPI = 100
TRAIN_COLOUR, VALID_COLOUR, ACCENT = "#3b6fb6", "#e07b39", "#2a9d8f"
TERM_TITLES = {
    "loss": "loss (minimised)",
    "elbo": "ELBO (nats, β = 1)",
    "reconstruction": "reconstruction E_q log p(x|z) (nats)",
    "kl": "KL(q(z|x) ‖ p(z)) (nats)",
}
HYPER_TITLES = {"beta": "β (KL weight)", "capacity": "capacity C (nats)", "lr": "learning rate"}


def to_png(fig: Figure) -> bytes:
    """Render a figure with Agg to PNG bytes."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, right: float = 0.2) -> tuple[Figure, np.ndarray]:
    """A ``width`` x ``height`` inch figure and its ``(rows * cols,)`` axes, laid out with fixed margins in inches
    (room for a title above each panel and tick labels beside it; ``right`` for a legend outside). Constrained
    layout would measure every label on each draw, which costs more than the drawing itself."""
    left, bottom, top, gap_x, gap_y = 0.75, 0.5, 0.35, 0.8, 0.75  # inches
    fig = Figure(figsize=(width, height))
    axes_width = (width - left - right - gap_x * (cols - 1)) / cols
    axes_height = (height - bottom - top - gap_y * (rows - 1)) / rows
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=gap_x / axes_width,
        hspace=gap_y / axes_height,
    )
    return fig, fig.subplots(rows, cols, squeeze=False).ravel()


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left", color="#222")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8, colors="#444")


def training_curves(history: Sequence[dict[str, Any]], best_epoch: int | None) -> bytes:
    """One panel per logged term (training and validation against the epoch) and per scheduled
    hyperparameter; a dashed line marks the best epoch, whose weights the run saved."""
    terms, hypers = term_keys(history), hyperparameter_keys(history)
    panels = len(terms) + len(hypers)
    cols = min(3, max(1, panels))
    rows = -(-panels // cols)
    fig, axes = _figure(3.7 * cols, 2.7 * rows, rows, cols)
    epochs = [record["epoch"] for record in history]
    marker = "o" if len(epochs) <= 20 else None
    for ax, key in zip(axes, terms + hypers, strict=False):
        if key in terms:
            for split, colour in (("train", TRAIN_COLOUR), ("valid", VALID_COLOUR)):
                points = [(r["epoch"], r[split][key]) for r in history if key in r.get(split, {})]
                if points:
                    ax.plot(*zip(*points, strict=True), color=colour, label=split, marker=marker, markersize=3)
            _style(ax, TERM_TITLES.get(key, key))
        else:
            points = [(r["epoch"], r[key]) for r in history if key in r]
            ax.plot(*zip(*points, strict=True), color=ACCENT, marker=marker, markersize=3)
            _style(ax, HYPER_TITLES.get(key, key) + " at the end of each epoch")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="#888", linestyle="--", linewidth=1, label=f"best epoch ({best_epoch})")
        ax.set_xlabel("epoch", fontsize=8)
    for ax in axes[panels:]:
        ax.set_visible(False)
    if terms:
        axes[0].legend(fontsize=8, frameon=False)
    return to_png(fig)


def latent_map(points: np.ndarray, labels: np.ndarray | None, axis_labels: tuple[str, str]) -> bytes:
    """Scatter of 2-D points ``(N, 2)``, coloured by integer class label when there are labels."""
    fig, (ax,) = _figure(5.8, 4.8, right=0.2 if labels is None else 1.1)
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=7, alpha=0.6, color=TRAIN_COLOUR, linewidths=0)
    else:
        classes = np.unique(labels)
        if len(classes) <= 20:
            palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
            for i, label in enumerate(classes):
                chosen = labels == label
                ax.scatter(
                    points[chosen, 0],
                    points[chosen, 1],
                    s=7,
                    alpha=0.7,
                    color=palette(i),
                    label=str(label),
                    linewidths=0,
                )
            ax.legend(
                title="label", fontsize=8, markerscale=2.5, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5)
            )
        else:
            shown = ax.scatter(points[:, 0], points[:, 1], s=7, alpha=0.7, c=labels, cmap="viridis", linewidths=0)
            fig.colorbar(shown, ax=ax, label="label")
    _style(ax, "")
    ax.set_xlabel(axis_labels[0], fontsize=9)
    ax.set_ylabel(axis_labels[1], fontsize=9)
    return to_png(fig)


def kl_bars(kl: np.ndarray) -> bytes:
    """Bars of the mean KL per latent dimension ``(D,)`` in nats."""
    fig, (ax,) = _figure(min(11.0, 2.5 + 0.35 * len(kl)), 3.0)
    ax.bar(np.arange(len(kl)), kl, color=TRAIN_COLOUR, width=0.75)
    _style(ax, f"KL per dimension (nats); total {float(np.sum(kl)):.2f}")
    if len(kl) <= 40:
        ax.set_xticks(np.arange(len(kl)), [f"z{d}" for d in range(len(kl))], fontsize=7)
    ax.set_xlabel("latent dimension", fontsize=8)
    return to_png(fig)


def elbo_histogram(elbo: np.ndarray) -> bytes:
    """Histogram of per-example ELBO values ``(N,)`` in nats, with the mean marked."""
    fig, (ax,) = _figure(7.0, 3.0)
    ax.hist(elbo, bins=int(np.clip(len(elbo) // 20, 10, 60)), color=TRAIN_COLOUR, alpha=0.85)
    mean = float(np.mean(elbo))
    ax.axvline(mean, color=VALID_COLOUR, linewidth=2, label=f"mean {mean:.2f}")
    ax.legend(fontsize=8, frameon=False)
    _style(ax, f"per-example ELBO (nats), {len(elbo)} examples")
    ax.set_xlabel("ELBO (nats)", fontsize=8)
    ax.set_ylabel("examples", fontsize=8)
    return to_png(fig)
