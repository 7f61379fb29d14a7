"""``seedvr model ...``: inspect the model family (sizes of the presets)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from seedvr.cli import app
from seedvr.cli._common import user_errors

model_app = typer.Typer(help="Inspect the repair model's size presets.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("info")
@user_errors
def info(
    preset: str = typer.Option(..., "--preset", help="Size preset: tiny, small, base or 7b."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON (components and 'total')."),
) -> None:
    """Parameter count of every component of a preset (counted on the meta device, no memory used)."""
    from seedvr.models.presets import COMPONENT_CLASSES, count_parameters, get_preset

    spec = get_preset(preset)
    counts = count_parameters(preset)
    if as_json:
        typer.echo(json.dumps(counts))
        return

    total = counts["total"]
    denoiser = spec.denoiser
    table = Table(title=f"SeedVR Repair preset '{spec.name}': {spec.description}")
    table.add_column("component")
    table.add_column("class")
    table.add_column("parameters", justify="right")
    table.add_column("share", justify="right")
    for component, model_class in COMPONENT_CLASSES.items():
        table.add_row(component, model_class.__name__, f"{counts[component]:,}", f"{counts[component] / total:.1%}")
    table.add_row("total", "", f"{total:,}", "100.0%", style="bold")
    console = Console()
    console.print(table)
    console.print(
        f"denoiser: hidden {denoiser['hidden_size']}, depth {denoiser['depth']}, heads {denoiser['num_heads']}, "
        f"patch {tuple(denoiser['patch_size'])}, window {tuple(denoiser['window_size'])}"
    )
