"""PNG plots of an evaluation (matplotlib, Agg canvas: no display, no global pyplot state).

* ``psnr_per_frame.png`` / ``ewarp_per_frame.png``: one line per method over the split's
  frames (global index, clips one after another, dotted lines where a clip starts).
* ``psnr_by_kind.png``: PSNR inside the mask, grouped bars per damage kind, one bar per method.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from seedvr.evaluate.metrics_file import EvaluationMetrics
from seedvr.evaluate.summary import clip_boundaries

PLOT_FILES: dict[str, str] = {
    "psnr_per_frame": "psnr_per_frame.png",
    "ewarp_per_frame": "ewarp_per_frame.png",
    "psnr_by_kind": "psnr_by_kind.png",
}
_DPI = 100
_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "v", "D")


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=_DPI)
    return path


def plot_per_frame(per_frame: pd.DataFrame, column: str, ylabel: str, title: str, path: Path) -> Path:
    """One line per method of ``column`` against the global frame index."""
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for index, (method, rows) in enumerate(per_frame.groupby("method", sort=False)):
        # Undefined frames (nan) become gaps in the line, not fake values. Methods that agree
        # (an untrained seedvr and propagate) draw the same line: varied dash patterns keep
        # every method visible where lines overlap.
        axes.plot(
            rows["frame"],
            rows[column],
            marker=_MARKERS[index % len(_MARKERS)],
            markersize=3.5,
            linestyle=_LINE_STYLES[index % len(_LINE_STYLES)],
            linewidth=1.3,
            label=method,
        )
    for start in clip_boundaries(per_frame):
        axes.axvline(start - 0.5, color="0.75", linestyle=":", linewidth=0.8)
    axes.set_xlabel("frame (clips one after another; dotted line = next clip)")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(title="method", loc="best")
    return _save(figure, path)


def plot_psnr_by_kind(metrics: EvaluationMetrics, path: Path) -> Path:
    """Grouped bars: for each damage kind, the mean PSNR inside the mask of every method."""
    methods = list(metrics.methods)
    kinds = metrics.damage_kinds()
    figure = Figure(figsize=(max(6.0, 1.4 * len(kinds) + 3), 4.5), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(methods))
    positions = np.arange(len(kinds))
    for index, method in enumerate(methods):
        per_kind = metrics.methods[method].per_kind
        values = [per_kind[kind].psnr_mask if kind in per_kind else None for kind in kinds]
        values = [np.nan if value is None else value for value in values]
        bars = axes.bar(positions + (index - (len(methods) - 1) / 2) * width, values, width, label=method)
        axes.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    first = metrics.methods[methods[0]].per_kind
    clip_counts = [first[kind].clips if kind in first else 0 for kind in kinds]
    labels = [f"{kind}\n({count} clip{'s' if count != 1 else ''})" for kind, count in zip(kinds, clip_counts)]
    axes.set_xticks(positions, labels)
    axes.set_xlabel("damage kind")
    axes.set_ylabel("PSNR inside the mask (dB, higher is better)")
    axes.set_title(f"PSNR in the mask by damage kind ({metrics.split} split)")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(title="method", loc="best")
    return _save(figure, path)


def write_plots(per_frame: pd.DataFrame, metrics: EvaluationMetrics, folder: Path) -> dict[str, Path]:
    """Write the three plots into ``folder`` (created); returns their paths by name."""
    folder.mkdir(parents=True, exist_ok=True)
    split = metrics.split
    return {
        "psnr_per_frame": plot_per_frame(
            per_frame,
            "psnr_mask",
            "PSNR inside the mask (dB, higher is better)",
            f"PSNR in the mask per frame ({split} split)",
            folder / PLOT_FILES["psnr_per_frame"],
        ),
        "ewarp_per_frame": plot_per_frame(
            per_frame,
            "ewarp_frame",
            "masked warping error t→t+1 (×1e-3, lower is better)",
            f"Temporal warping error in the mask per frame ({split} split)",
            folder / PLOT_FILES["ewarp_per_frame"],
        ),
        "psnr_by_kind": plot_psnr_by_kind(metrics, folder / PLOT_FILES["psnr_by_kind"]),
    }
