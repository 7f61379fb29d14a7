"""``seedvr detect-finetune``: the DVC stage ``train_detector`` (the shipped detector fine-tuned on the dataset).

A module of its own, apart from ``seedvr detect``/``detect-train``: a stage's code deps are the
modules its command imports, and this one needs neither evaluation nor the photographs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors


@app.command("detect-finetune")
@user_errors
def detect_finetune(
    params: Path = typer.Option(Path("params.yaml"), help="params.yaml; detector.finetune_* set the start, steps and time."),
    data: Path = typer.Option(..., help="Damaged dataset (manifest.csv): its train split's film damage and clean videos."),
    out: Path = typer.Option(None, help="Output folder (default: detector.out)."),
    init: Path = typer.Option(None, help="Detector folder to start from (default: detector.finetune_from, the shipped one)."),
) -> None:
    """Fine-tune the damage detector on a damaged dataset's film damage (the pipeline's train_detector stage)."""
    from seedvr.config import load_params
    from seedvr.train.detector_finetune import finetune_detector, save_detector

    settings = load_params(params).detector
    if init is not None:
        settings = settings.model_copy(update={"finetune_from": str(init)})
    result = finetune_detector(data, settings, progress=lambda step, loss: typer.echo(f"step {step}  loss {loss:.4f}", err=True))
    out_dir = save_detector(result.detector, out if out is not None else settings.out)
    typer.echo(f"fine-tuned {settings.finetune_from} for {result.steps} steps ({result.seconds:.1f} s) -> {out_dir}")
