"""``seedvr pretrain``: train the shipped base model (``models/seedvr-base``)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from seedvr.cli import app
from seedvr.cli._common import user_errors


@app.command()
@user_errors
def pretrain(
    params: Path = typer.Option(Path("params.yaml"), help="params.yaml; the pretrain section sets data, size and time."),
    minutes: float = typer.Option(None, help="Wall-time budget for training (default: pretrain.max_minutes)."),
    resume: Path = typer.Option(None, help="Continue from a Lightning checkpoint (e.g. work/pretrain/checkpoints/last.ckpt)."),
) -> None:
    """Train the base model on clips over every photograph at hand, and of real video when
    pretrain.footage_clips asks (fetches the footage cache once)."""
    from seedvr.config import load_params
    from seedvr.data.footage import FootageSources, footage_photos, footage_videos
    from seedvr.data.photos import PHOTO_NAMES
    from seedvr.evaluate.real_footage import benchmark_frames
    from seedvr.train.pretrain import pretrain_base_model
    from seedvr.versioning.git import git_commit

    settings = load_params(params)
    if minutes is not None:
        if minutes <= 0:
            raise typer.BadParameter("--minutes must be positive")
        settings = settings.model_copy(update={"pretrain": settings.pretrain.model_copy(update={"max_minutes": minutes})})
    photos = list(PHOTO_NAMES) + [str(path) for path in footage_photos()]
    footage = None
    if settings.pretrain.footage_clips:
        videos = footage_videos()
        footage = FootageSources(videos, benchmark_frames(videos))
    console = Console(stderr=True)

    def report(row: dict) -> None:
        console.print(
            f"epoch {row['epoch'] + 1} step {row['step']}  val_loss {row.get('val_loss', float('nan')):.4f}  "
            f"psnr_mask {row.get('val/psnr_mask', float('nan')):.2f} dB "
            f"(propagation {row.get('val/psnr_mask_propagation', float('nan')):.2f} dB)"
        )

    result = pretrain_base_model(
        settings,
        photos,
        commit=git_commit(),
        command="seedvr " + " ".join(sys.argv[1:]),
        on_progress=report,
        resume=str(resume) if resume else None,
        footage=footage,
    )
    typer.echo(f"saved base model to {result.out_dir} ({result.steps} steps, {result.seconds / 60:.1f} min)")
