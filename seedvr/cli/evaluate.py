"""``seedvr evaluate``: every repair method on one split of the damaged dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors


@app.command()
@user_errors
def evaluate(
    model: str = typer.Option(None, help="Pipeline folder or models:/NAME@ALIAS (needed for method seedvr)."),
    data: Path = typer.Option(None, help="Damaged dataset folder (manifest.csv); default: damage.out from --params."),
    split: str = typer.Option(None, help="train | val | test; default: evaluate.split from --params, else test."),
    methods: str = typer.Option(None, help="Comma-separated: seedvr,propagate,telea,ns; default: evaluate.methods."),
    out: Path = typer.Option(None, help="Output folder (replaced); default: evaluate.out from --params."),
    params: Path = typer.Option(None, help="params.yaml supplying the defaults (evaluate, damage and loss sections)."),
    steps: int = typer.Option(None, help="Sampling steps per pass for seedvr (default: the model's)."),
    max_clips: int = typer.Option(None, help="Evaluate only the first N clips of the split."),
    strips: int = typer.Option(None, help="Number of clips that get a sample strip (default 3)."),
    seed: int = typer.Option(None, help="Seed for the diffusion noise (default 0)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    detector: Path = typer.Option(
        None, help="Damage detector folder to score on the split's film damage (detector.threshold/dilate/scales from --params)."
    ),
) -> None:
    """Score seedvr and the classical baselines on the same clips: tables, plots, strips, report."""
    from rich.console import Console
    from rich.table import Table

    from seedvr.config import Params, load_params
    from seedvr.errors import SeedVRError
    from seedvr.evaluate import evaluate_dataset

    # Explicit options win over params.yaml, which wins over the schema's defaults.
    settings = load_params(params) if params is not None else Params()
    defaults = settings.evaluate
    data = data if data is not None else (Path(settings.damage.out) if params is not None else None)
    if data is None:
        raise SeedVRError("--data is required (a damaged dataset folder), or pass --params to use damage.out")
    console = Console(stderr=True)
    result = evaluate_dataset(
        model=model,
        data_dir=data,
        split=split or defaults.split,
        methods=methods if methods is not None else defaults.methods,
        out_dir=out if out is not None else Path(defaults.out),
        steps=steps if steps is not None else defaults.steps,
        seed=seed if seed is not None else defaults.seed,
        strips=strips if strips is not None else defaults.strips,
        max_clips=max_clips if max_clips is not None else defaults.max_clips,
        vgg16_weights=settings.loss.vgg16_weights,
        device=device,
        progress=lambda line: console.print(line, highlight=False),
        detector=detector,
        detector_threshold=settings.detector.threshold,
        detector_dilate=settings.detector.dilate,
        detector_scales=settings.detector.scales,
    )

    metrics = result.metrics
    table = Table(title=f"{metrics.split}: {metrics.clips} clips, {metrics.frames} frames")
    for column in ("method", "psnr_mask dB", "ssim_mask", "ewarp x1e-3", "s/frame"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, figures in metrics.methods.items():
        shown = (figures.psnr_mask, figures.ssim_mask, figures.ewarp)
        speed = result.timings["methods"][name]["sec_per_frame"]
        table.add_row(name, *(f"{value:.3f}" if value is not None else "-" for value in shown), f"{speed:.3f}")
    Console().print(table)
    gains = metrics.gains
    if gains is not None and gains.psnr_mask_db is not None:
        typer.echo(f"seedvr vs {gains.baseline}: {gains.psnr_mask_db:+.2f} dB in the mask")
    if metrics.detection is not None:
        found = Table(title=f"detector {metrics.detection.detector}")
        for column in ("film kind", "precision", "recall", "IoU"):
            found.add_column(column, justify="left" if column == "film kind" else "right")
        for kind, figures in metrics.detection.per_kind.items():
            shown = (figures.precision, figures.recall, figures.iou)
            found.add_row(kind, *(f"{value:.3f}" if value is not None else "-" for value in shown))
        Console().print(found)
        clean = metrics.detection.clean
        if clean is not None and clean.flagged_fraction is not None:
            typer.echo(f"clean clips: {100 * clean.flagged_fraction:.4f} % of pixels flagged")
    typer.echo(f"evaluation written to {result.out_dir}")
