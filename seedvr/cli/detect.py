"""``seedvr detect`` (find film damage, write its mask) and ``seedvr detect-train`` (train the detector)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.config import DetectorParams

_DEFAULTS = DetectorParams()
THRESHOLD_HELP = f"Damage probability above which a pixel is flagged, strictly between 0 and 1 (default {_DEFAULTS.threshold:g})."
DILATE_HELP = f"Grow the detected mask by this many pixels (default {_DEFAULTS.dilate})."
GROW_HELP = (
    "Grow each detection through the touching pixels whose probability is above this (in (0, --threshold]; "
    "hysteresis), and fill the holes it encloses"
)
# seedvr repair --mask auto repairs a wider region than seedvr detect reports (detector.auto_grow_threshold).
AUTO_GROW_HELP = f"{GROW_HELP} (default {_DEFAULTS.auto_grow_threshold:g})."
SCALES_HELP = (
    "Shares of the frame's side to detect at, comma-separated, each in (0, 1]; damage is where any finds it "
    f"(default {','.join(f'{scale:g}' for scale in _DEFAULTS.scales)})."
)
DETECTOR_HELP = "Detector folder (seedvr detect-train); default: the shipped models/seedvr-detector."


@app.command()
@user_errors
def detect(
    input: Path = typer.Argument(..., help="Video file or folder of numbered frames."),
    output: Path = typer.Option(..., "--output", "-o", help="Mask to write: .mkv/.avi (lossless) or a folder of PNGs."),
    threshold: float = typer.Option(_DEFAULTS.threshold, help=THRESHOLD_HELP),
    dilate: int = typer.Option(_DEFAULTS.dilate, help=DILATE_HELP),
    grow_threshold: float = typer.Option(_DEFAULTS.grow_threshold, help=f"{GROW_HELP} (default: no growth)."),
    scales: str = typer.Option(None, help=SCALES_HELP),
    detector: Path = typer.Option(None, help=DETECTOR_HELP),
) -> None:
    """Find film damage (scratches, blotches, dust) and write it as a mask video (white = damage)."""
    from seedvr.engine.detect import DEFAULT_SCALES, check_detection_options, check_scales, detect_video, load_detector

    check_detection_options(threshold, dilate, grow_threshold)
    chosen = DEFAULT_SCALES if scales is None else check_scales(scales)
    summary = detect_video(
        input, output, load_detector(detector), threshold=threshold, dilate=dilate, scales=chosen, grow_threshold=grow_threshold
    )
    typer.echo(f"detected damage in {100 * summary['flagged_fraction']:.3f} % of {summary['frames']} frames -> {output}")


@app.command("detect-train")
@user_errors
def detect_train(
    params: Path = typer.Option(Path("params.yaml"), help="params.yaml; its detector section sets data, size and time."),
    out: Path = typer.Option(None, help="Output folder (default: detector.out; the shipped one is models/seedvr-detector)."),
    minutes: float = typer.Option(None, help="Wall-time budget of each leg (default: detector.max_minutes)."),
    init: Path = typer.Option(
        None, help="Detector folder to continue instead of starting from scratch (default: detector.init)."
    ),
    data: Path = typer.Option(
        None, help="Also train on the film-damage clips (scratch, blotch, dust) of this damaged dataset's train split."
    ),
) -> None:
    """Train the damage detector on synthetic film damage; save it with a model card of held-out scores."""
    from seedvr.config import load_params
    from seedvr.evaluate.detection import card_photos, train_shipped_detector
    from seedvr.train.detector import manifest_clips
    from seedvr.versioning.git import git_commit

    settings = load_params(params).detector
    update = {
        key: value
        for key, value in (("out", str(out) if out else None), ("max_minutes", minutes), ("init", str(init) if init else None))
        if value is not None
    }
    if minutes is not None and minutes <= 0:
        raise typer.BadParameter("--minutes must be positive")
    settings = settings.model_copy(update=update)
    training_photos, heldout_photos = card_photos()
    console = Console(stderr=True)
    report = train_shipped_detector(
        settings,
        training_photos,
        heldout_photos,
        commit=git_commit(),
        command="seedvr " + " ".join(sys.argv[1:]),
        progress=lambda step, loss: console.print(f"step {step}  loss {loss:.4f}"),
        extra_clips=manifest_clips(data) if data else (),
    )
    for kind, score in report.scores.items():
        typer.echo(
            f"{kind:8s} precision {score.precision:.3f}  recall {score.recall:.3f}  IoU {score.iou:.3f}  "
            f"flagged {100 * score.flagged_fraction:.3f} %"
        )
    legs = f" in {len(report.legs)} legs" if len(report.legs) > 1 else ""
    typer.echo(f"saved detector to {report.out_dir} ({report.steps} steps{legs}, {report.seconds / 60:.1f} min)")
