"""Log an evaluation to the active MLflow run, when there is one.

Metric names (MLflow allows ``/`` in them, and its UI groups by the prefix):

* ``eval/<method>/<metric>``: every aggregate of ``metrics.json`` (``lpips`` only when computed);
* ``eval/<method>/<kind>/<metric>``: per damage kind (``psnr_mask``, ``ssim_mask``, ``ewarp``,
  ``ewarp_mask``);
* ``eval/gain_psnr_mask_db``, ``eval/gain_ssim_mask``, ``eval/gain_ewarp``,
  ``eval/gain_ewarp_mask`` and
  ``eval/<kind>/gain_psnr_mask_db`` etc.: seedvr against the best classical baseline
  (positive = seedvr better), whose name is the tag ``eval.baseline``.

* ``eval/detection/<kind>/<figure>`` (precision, recall, iou, flagged_fraction) and
  ``eval/detection/clean/flagged_fraction``: the damage detector, when one was evaluated.

* ``eval/<method>/sec_per_frame``: repair wall time per frame, from the folder's
  ``timings.json`` (:mod:`seedvr.evaluate.timings`), when there is one.

Undefined figures (``null`` in ``metrics.json``) are not logged: a missing metric is honest,
a fake number is not. ``eval/sampler_steps`` and ``eval/sampler_model_steps`` record the
sampling steps seedvr ran and the model's own. The output folder is logged as artifacts
under ``evaluation/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from seedvr.evaluate.metrics_file import EvaluationMetrics
from seedvr.evaluate.timings import SPEED_KEY, read_timings

ARTIFACT_FOLDER = "evaluation"


def _defined(prefix: str, figures: dict[str, float | None]) -> dict[str, float]:
    """``{prefix + name: value}`` of the figures that are defined (``None`` is left out)."""
    return {f"{prefix}{name}": value for name, value in figures.items() if value is not None}


def evaluation_metrics(metrics: EvaluationMetrics) -> dict[str, float]:
    """Flatten ``metrics.json`` into MLflow metric names and values."""
    flat: dict[str, float] = {}
    for method, figures in metrics.methods.items():
        flat.update(_defined(f"eval/{method}/", figures.figures()))
        for kind, kind_figures in figures.per_kind.items():
            flat.update(_defined(f"eval/{method}/{kind}/", kind_figures.figures()))
    if metrics.gains is not None:
        flat.update(_defined("eval/gain_", metrics.gains.figures()))
        for kind, kind_gains in metrics.gains.per_kind.items():
            flat.update(_defined(f"eval/{kind}/gain_", kind_gains.figures()))
    if metrics.detection is not None:
        for kind, kind_figures in metrics.detection.per_kind.items():
            flat.update(_defined(f"eval/detection/{kind}/", kind_figures.figures()))
        if metrics.detection.clean is not None:
            flat.update(_defined("eval/detection/clean/", metrics.detection.clean.figures()))
    if metrics.sampler is not None:
        flat["eval/sampler_steps"] = float(metrics.sampler.steps)
        flat["eval/sampler_model_steps"] = float(metrics.sampler.model_steps)
    flat["eval/clips"] = float(metrics.clips)
    flat["eval/frames"] = float(metrics.frames)
    return flat


def timing_metrics(timings: dict | None) -> dict[str, float]:
    """``eval/<method>/sec_per_frame`` from ``timings.json`` (nothing without one)."""
    if timings is None:
        return {}
    return {f"eval/{method}/{SPEED_KEY}": float(figures[SPEED_KEY]) for method, figures in timings["methods"].items()}


def log_to_active_run(metrics: EvaluationMetrics, out_dir: str | Path) -> bool:
    """Log metrics, tags and the output files to the active run; ``False`` when none is active."""
    # No run can be active in a process that never imported mlflow; checking first spares
    # evaluations outside MLflow the cost of importing it.
    if "mlflow" not in sys.modules:
        return False
    import mlflow

    if mlflow.active_run() is None:
        return False
    mlflow.log_metrics({**evaluation_metrics(metrics), **timing_metrics(read_timings(out_dir))})
    tags = {"eval.split": metrics.split, "eval.methods": ",".join(metrics.methods)}
    if metrics.gains is not None:
        tags["eval.baseline"] = metrics.gains.baseline
    mlflow.set_tags(tags)
    mlflow.log_artifacts(str(out_dir), artifact_path=ARTIFACT_FOLDER)
    return True
