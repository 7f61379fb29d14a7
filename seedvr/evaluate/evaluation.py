"""``evaluate_dataset``: every repair method on one split, written up as tables, plots and a report.

Output folder (built under a temporary sibling and renamed into place only when complete,
replacing an earlier evaluation there)::

    metrics.json            aggregates per method and per damage kind, gains (:mod:`seedvr.evaluate.metrics_file`)
    per_clip.csv            clip_id, method, damage_kinds, frames, mask_ratio, every metric[, lpips]
    per_frame.csv           frame, clip_id, method, psnr_mask, ewarp_frame (all methods)
    per_frame/<method>.csv  the same rows for one method (one file per line in `dvc plots`)
    plots/psnr_per_frame.png, plots/ewarp_per_frame.png, plots/psnr_by_kind.png
    strips/<clip_id>.png    damaged | mask | each method | truth, for the first clips
    report.md               tables, gains and links to the images
    timings.json            repair seconds per method and clip (:mod:`seedvr.evaluate.timings`)

Every file but ``timings.json`` depends only on the model, the data and the seed (the DVC
outputs of the evaluate stage, hashed in ``dvc.lock``); timings differ on every run.

Aggregation rules: :mod:`seedvr.evaluate.summary`; per-frame series: :mod:`seedvr.metrics.per_frame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from seedvr.engine.detect import DETECTOR_DEFAULTS, check_detection_options, check_scales
from seedvr.errors import SeedVRError
from seedvr.evaluate.dataset_detection import evaluate_detection
from seedvr.evaluate.metrics_file import METRICS_FILE, EvaluationMetrics, SamplerSettings
from seedvr.evaluate.mlflow_logging import log_to_active_run
from seedvr.evaluate.plots import write_plots
from seedvr.evaluate.report import render_report
from seedvr.evaluate.runner import (
    Progress,
    check_method_names,
    check_model_given,
    load_methods,
    run_methods_on_clips,
    select_clips,
)
from seedvr.evaluate.strips import write_strips
from seedvr.evaluate.summary import per_clip_table, per_frame_table, summarize
from seedvr.evaluate.timings import TIMINGS_FILE, timings_of, write_timings
from seedvr.io.atomic import PendingOutput
from seedvr.method_catalog import METHOD_NAMES

PER_CLIP_FILE = "per_clip.csv"
PER_FRAME_FILE = "per_frame.csv"
PER_FRAME_FOLDER = "per_frame"
PLOTS_FOLDER = "plots"
STRIPS_FOLDER = "strips"
REPORT_FILE = "report.md"
# Every name an evaluation writes at the top of its folder. A folder holding only these is an
# earlier evaluation even without metrics.json: ``dvc repro`` deletes the stage's declared
# outputs before re-running it and leaves the undeclared timings.json behind.
EVALUATION_ENTRIES = frozenset(
    {METRICS_FILE, TIMINGS_FILE, PER_CLIP_FILE, PER_FRAME_FILE, PER_FRAME_FOLDER, PLOTS_FOLDER, STRIPS_FOLDER, REPORT_FILE}
)


@dataclass
class EvaluationResult:
    """Where the evaluation was written, its ``metrics.json`` content, the per-clip table and
    the ``timings.json`` content."""

    out_dir: Path
    metrics: EvaluationMetrics
    per_clip: pd.DataFrame
    timings: dict


def sampler_settings(seedvr_details: dict | None, seed: int) -> SamplerSettings | None:
    """metrics.json's ``sampler``: the steps seedvr ran, the model's own, the seed (``None``
    when seedvr was not evaluated). The promotion gates refuse an evaluation whose ``steps``
    differ from ``model_steps``: it would not measure what batch repair ships."""
    if seedvr_details is None:
        return None
    return SamplerSettings(steps=seedvr_details["steps"], model_steps=seedvr_details["model_steps"], seed=seed)


def _check_output_folder(out_dir: Path, data_root: Path) -> None:
    """Refuse to replace anything that is not an earlier evaluation: a mistyped path must not
    wipe unrelated files."""
    if out_dir.resolve() == data_root.resolve():
        raise SeedVRError(f"output folder {out_dir} is the dataset folder; choose another one")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise SeedVRError(f"output {out_dir} is a file, not a folder")
    if (out_dir / METRICS_FILE).is_file():
        return
    foreign = sorted(entry.name for entry in out_dir.iterdir() if entry.name not in EVALUATION_ENTRIES)
    if foreign:
        raise SeedVRError(
            f"output folder {out_dir} holds {foreign[0]!r}, which no evaluation writes, and no {METRICS_FILE}; "
            "choose a new or empty folder"
        )


def _write_tables(folder: Path, per_clip: pd.DataFrame, per_frame: pd.DataFrame, metrics: EvaluationMetrics) -> None:
    per_clip.to_csv(folder / PER_CLIP_FILE, index=False, lineterminator="\n")
    per_frame.to_csv(folder / PER_FRAME_FILE, index=False, lineterminator="\n")
    (folder / PER_FRAME_FOLDER).mkdir()
    for method, rows in per_frame.groupby("method", sort=False):
        rows.to_csv(folder / PER_FRAME_FOLDER / f"{method}.csv", index=False, lineterminator="\n")
    (folder / METRICS_FILE).write_text(metrics.to_json())


def evaluate_dataset(
    model: str | Path | None,
    data_dir: str | Path,
    split: str = "test",
    methods: Sequence[str] | str = METHOD_NAMES,
    out_dir: str | Path = "work/eval",
    steps: int | None = None,
    seed: int = 0,
    strips: int = 3,
    max_clips: int | None = None,
    vgg16_weights: str | Path | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    detector: str | Path | None = None,
    detector_threshold: float = DETECTOR_DEFAULTS.threshold,
    detector_dilate: int = DETECTOR_DEFAULTS.dilate,
    detector_scales: Sequence[float] = DETECTOR_DEFAULTS.scales,
) -> EvaluationResult:
    """Run ``methods`` on the clips of ``split`` of the damaged dataset in ``data_dir``.

    Args:
        model: saved pipeline folder or ``models:/NAME@ALIAS``; required when ``seedvr`` is
            among ``methods``.
        data_dir: damaged dataset folder (``manifest.csv``) or the manifest itself.
        methods: names (or comma-separated text) among :data:`seedvr.method_catalog.METHODS`.
        out_dir: output folder, replaced as a whole (only if it is empty or an earlier evaluation).
        steps: sampling steps per pass for seedvr. ``None`` (the default, and what the
            pipeline's evaluate stage uses): the model's own ``num_inference_steps``, exactly
            what batch repair runs; any other value is for quick looks only, and the
            promotion gates refuse such an evaluation (``sampler`` in metrics.json).
        seed: diffusion noise seed; the same seed gives the same metrics.
        strips: number of clips (the first ones) that get a sample strip.
        max_clips: evaluate only the first clips of the split.
        vgg16_weights: local torchvision VGG16 file, to compute LPIPS.
        device: ``auto``, ``cpu`` or ``cuda`` for seedvr.
        progress: called with one line of text after each (clip, method).
        detector: a damage detector folder; when given, it is scored on the split's film
            damage and clean clips (metrics.json's ``detection``, the report's detection table)
            with ``detector_threshold``, ``detector_dilate`` and ``detector_scales``.

    When an MLflow run is active, metrics, tags and the output files are logged to it
    (:mod:`seedvr.evaluate.mlflow_logging`).

    Raises:
        SeedVRError: unknown method or split, seedvr without a model, missing dataset, empty
            split, an output path that is not an earlier evaluation, unreadable clips.
    """
    names = check_method_names(methods)
    check_model_given(names, model)
    if strips < 0:
        raise SeedVRError(f"strips must be 0 or more, got {strips}")
    clips, data_root = select_clips(data_dir, split, max_clips)
    out_dir = Path(out_dir)
    _check_output_folder(out_dir, data_root)
    if detector is not None:
        check_detection_options(detector_threshold, detector_dilate)
        check_scales(detector_scales)
    repair_methods = load_methods(names, model, steps, seed, device)

    measured = run_methods_on_clips(clips, data_root, repair_methods, strips, vgg16_weights, progress)
    details = measured.method_details
    per_clip = per_clip_table(measured.runs)
    per_frame = per_frame_table(measured.runs)
    metrics = summarize(per_clip, split, names, sampler=sampler_settings(details.get("seedvr"), seed))
    if detector is not None:
        detection = evaluate_detection(detector, data_dir, split, detector_threshold, detector_dilate, detector_scales)
        metrics = metrics.model_copy(update={"detection": detection})
    timings = timings_of(measured.runs)

    pending = PendingOutput(out_dir, make_parents=True)
    try:
        staging = pending.temp
        staging.mkdir()
        _write_tables(staging, per_clip, per_frame, metrics)
        write_timings(staging, timings)
        plots = write_plots(per_frame, metrics, staging / PLOTS_FOLDER)
        strip_paths = write_strips(measured.samples, list(names), staging / STRIPS_FOLDER)
        report = render_report(
            metrics,
            {name: path.relative_to(staging).as_posix() for name, path in plots.items()},
            [path.relative_to(staging).as_posix() for path in strip_paths],
            details,
        )
        (staging / REPORT_FILE).write_text(report)
    except BaseException:
        pending.discard()
        raise
    pending.commit()
    log_to_active_run(metrics, out_dir)
    return EvaluationResult(out_dir=out_dir, metrics=metrics, per_clip=per_clip, timings=timings)
