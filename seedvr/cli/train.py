"""``seedvr train``: fine-tune the full model and write a pipeline folder."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from seedvr.cli import app
from seedvr.cli._common import user_errors


@app.command()
@user_errors
def train(
    params: Path = typer.Option(Path("params.yaml"), help="params.yaml with model/train/loss sections."),
    data: Path = typer.Option(None, help="Damaged dataset folder (manifest.csv); default: damage.out from params."),
    init: str = typer.Option(
        None, help="scratch, auto (the registered champion if any), a pipeline folder or models:/NAME@ALIAS; default: train.init."
    ),
    out: Path = typer.Option(None, help="Output pipeline folder; default: train.out from params."),
    progress_file: Path = typer.Option(None, help="Rewrite this JSON file with the latest epoch's metrics (for dashboards)."),
    timings_file: Path = typer.Option(
        None, help="Write the run's wall-clock seconds here as JSON (kept out of the model folder)."
    ),
) -> None:
    """Fine-tune the repair model (Lightning) and save a from_pretrained-ready folder."""
    from seedvr.config import load_params
    from seedvr.io import atomic_output
    from seedvr.train.fit import train_model

    settings = load_params(params)
    console = Console(stderr=True)

    def report(row: dict) -> None:
        if progress_file is not None:
            with atomic_output(progress_file) as staging:
                Path(staging).write_text(json.dumps(row))
        console.print(
            f"epoch {row['epoch'] + 1}/{row['max_epochs']}  val_loss {row.get('val_loss', float('nan')):.4f}  "
            f"psnr_mask {row.get('val/psnr_mask', float('nan')):.2f} dB "
            f"(propagation {row.get('val/psnr_mask_propagation', float('nan')):.2f} dB)"
        )

    result = train_model(
        settings,
        dataset_dir=data or Path(settings.damage.out),
        out_dir=out or Path(settings.train.out),
        init=init,
        on_progress=report,
        timings_file=timings_file,
    )
    typer.echo(
        f"saved pipeline to {result.out_dir} ({result.steps} steps, {result.seconds:.0f} s, "
        f"perceptual term: {result.perceptual_backend})"
    )
