"""``seedvr repair``: repair one video inside its mask."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.cli.detect import AUTO_GROW_HELP, DETECTOR_HELP, DILATE_HELP, SCALES_HELP, THRESHOLD_HELP
from seedvr.config import REPAIR_DEFAULTS, DetectorParams
from seedvr.method_catalog import MODEL_METHOD, method_choices

_DETECTOR_DEFAULTS = DetectorParams()


@app.command()
@user_errors
def repair(
    input: Path = typer.Argument(..., help="Video file (mp4, mkv, mov, avi, webm) or folder of numbered frames."),
    mask: Path = typer.Option(
        ...,
        "--mask",
        "-m",
        help="Mask video, frame folder, or one image for every frame; or the word auto: find the film damage "
        "(scratches, blotches, dust) first, repair inside it, and keep the detected mask beside the output "
        "as <output stem>.mask.mkv.",
    ),
    output: Path = typer.Option(..., "--output", "-o", help=".mkv (FFV1 lossless), a folder (PNG frames) or .mp4 (H.264)."),
    method: str = typer.Option(MODEL_METHOD, help=method_choices()),
    model: str = typer.Option(None, help="Pipeline folder or models:/NAME@ALIAS (method seedvr)."),
    chunk: int = typer.Option(REPAIR_DEFAULTS.chunk, help="Frames repaired together; memory does not grow with video length."),
    overlap: int = typer.Option(
        REPAIR_DEFAULTS.overlap, help="Frames shared by consecutive chunks, cross-faded inside the mask."
    ),
    steps: int = typer.Option(None, help="Sampling steps per pass (default: the model's)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    precision: str = typer.Option("fp32", help="fp32 | bf16 | fp16 (fp16 needs CUDA)"),
    mask_dilate: int = typer.Option(0, help="Grow the mask by this many pixels first."),
    max_side: int = typer.Option(None, help="Repair at this longer side, composite at full size."),
    seed: int = typer.Option(0, help="Seed for the diffusion noise."),
    crf: int = typer.Option(REPAIR_DEFAULTS.crf, help="Quality of .mp4 output (lower is better)."),
    report: Path = typer.Option(None, help="Also write the repair report as JSON here."),
    adapt: int = typer.Option(
        0,
        "--adapt",
        metavar="STEPS",
        help="Fine-tune a copy of the model on this video's known pixels for STEPS optimizer steps before "
        "repairing (method seedvr; 0 = off). The saved model is not changed.",
    ),
    adapt_seconds: float = typer.Option(None, help="Stop adapting after this many seconds, even before STEPS."),
    adapt_frames: int = typer.Option(
        REPAIR_DEFAULTS.adapt_frames, help="Frames adaptation learns from (all of a shorter video, else evenly spaced runs)."
    ),
    crop: bool = typer.Option(
        False, "--crop/--no-crop", help="Repair only crops around each chunk's damage, or whole frames (default)."
    ),
    crop_margin: int = typer.Option(
        None,
        help=f"Pixels of context kept around the damage in a crop, and around a tile's part of the frame "
        f"(tiles overlap by twice this; default {REPAIR_DEFAULTS.crop_margin}).",
    ),
    tile_pixels: int = typer.Option(
        REPAIR_DEFAULTS.tile_pixels,
        help="Largest area (pixels) repaired at once; larger frames or crops are repaired in overlapping tiles "
        "(bounds memory at any resolution).",
    ),
    threshold: float = typer.Option(None, help=f"With --mask auto: {THRESHOLD_HELP}"),
    dilate: int = typer.Option(None, help=f"With --mask auto: {DILATE_HELP}"),
    grow_threshold: float = typer.Option(None, help=f"With --mask auto: {AUTO_GROW_HELP}"),
    scales: str = typer.Option(None, help=f"With --mask auto: {SCALES_HELP}"),
    detector: Path = typer.Option(None, help=f"With --mask auto: {DETECTOR_HELP}"),
    confirm_tolerance: int = typer.Option(
        None,
        help="With --mask auto: repair a detected pixel only where a propagated repair changes it by more than this "
        f"many grey levels, 0-254 (default {_DETECTOR_DEFAULTS.confirm_tolerance}); the rest is left as it was.",
    ),
    no_confirm: bool = typer.Option(False, "--no-confirm", help="With --mask auto: repair every detected pixel."),
    looks: int = typer.Option(
        None,
        help="With --mask auto: how many times to look for damage, 1-4; each look after the first detects again on "
        f"the clip repaired inside what was found (default {_DETECTOR_DEFAULTS.looks}).",
    ),
) -> None:
    """Repair the masked region of a video; everything outside the mask is kept bit for bit."""
    from seedvr.engine.auto_mask import AUTO_MASK, CONFIRM_TOLERANCE, DETECTION_LOOKS, repair_with_detected_mask
    from seedvr.engine.detect import AUTO_GROW_THRESHOLD, DEFAULT_DILATE, DEFAULT_SCALES, DEFAULT_THRESHOLD, check_scales
    from seedvr.engine.repair import repair_video
    from seedvr.errors import SeedVRError

    auto = str(mask) == AUTO_MASK
    detection_options = (threshold, dilate, grow_threshold, scales, detector, confirm_tolerance, looks)
    if not auto and (detection_options != (None,) * len(detection_options) or no_confirm):
        raise SeedVRError(
            "--threshold, --dilate, --grow-threshold, --scales, --detector, --confirm-tolerance, --no-confirm and --looks "
            "need --mask auto"
        )
    if no_confirm and confirm_tolerance is not None:
        raise SeedVRError("--no-confirm and --confirm-tolerance exclude each other")
    tolerance = None if no_confirm else CONFIRM_TOLERANCE if confirm_tolerance is None else confirm_tolerance

    def repair_with_mask(input, output, **options):
        if not auto:
            return repair_video(input, mask, output, **options)
        return repair_with_detected_mask(
            input,
            output,
            detector=detector,
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            dilate=DEFAULT_DILATE if dilate is None else dilate,
            grow_threshold=AUTO_GROW_THRESHOLD if grow_threshold is None else grow_threshold,
            scales=DEFAULT_SCALES if scales is None else check_scales(scales),
            confirm_tolerance=tolerance,
            looks=DETECTION_LOOKS if looks is None else looks,
            **options,
        )

    def run(progress=None):
        return repair_with_mask(
            input,
            output,
            method=method,
            model=model,
            chunk=chunk,
            overlap=overlap,
            steps=steps,
            device=device,
            precision=precision,
            mask_dilate=mask_dilate,
            max_side=max_side,
            seed=seed,
            crf=crf,
            progress=progress,
            adapt_steps=adapt,
            adapt_seconds=adapt_seconds,
            adapt_frames=adapt_frames,
            crop=crop,
            crop_margin=crop_margin,
            tile_pixels=tile_pixels,
            report_path=report,
        )

    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("repairing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[fps]} fps"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("repair", total=None, fps="-")

            def advance(done: int, total: int) -> None:
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(task, completed=done, total=total, fps=f"{done / elapsed:.1f}")

            result = run(advance)
    else:
        result = run()
    adapted = result.details.get("adapt")
    if adapted:
        losses = f"loss {adapted['loss_first']:.4g} -> {adapted['loss_last']:.4g}" if adapted["steps"] else "no step done"
        typer.echo(
            f"adapted a copy of the model: {adapted['steps']} steps on {adapted['frames']} frames "
            f"in {adapted['seconds']:.1f} s ({losses})"
        )
    if auto:
        detection = result.details["detection"]
        confirmation = detection["confirmation"]
        confirmed = (
            ""
            if confirmation is None
            else f", {100 * confirmation['confirmed_fraction']:.3f} % changed by a propagated repair "
            f"(more than {confirmation['tolerance']} levels) and repaired"
        )
        typer.echo(f"detected damage in {100 * detection['flagged_fraction']:.3f} % of the pixels{confirmed} -> {result.mask}")
    typer.echo(
        f"repaired {result.frames} frames with {result.method} in {result.seconds:.1f} s "
        f"({result.frames_per_second:.1f} fps) -> {result.output}"
    )
