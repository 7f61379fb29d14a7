"""``seedvr data ensure|damage|version``: the versioned source data in ``data/`` and the
params-driven damage stage built from it."""

from __future__ import annotations

from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.config import load_params

data_app = typer.Typer(
    help="Versioned source data (data/, tracked by DVC in data.dvc).",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command()
@user_errors
def ensure(
    params: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml whose `data` section describes data/."),
    root: Path = typer.Option(Path("."), "--root", help="Repository root (holds .dvc/ and data.dvc)."),
    update: bool = typer.Option(False, "--update", help="Regenerate data/ from params.data and record it with `dvc add`."),
) -> None:
    """Make data/ match data.dvc: keep it, restore it from the DVC cache or remote, or regenerate it."""
    from seedvr.versioning import ensure_source_data

    settings = load_params(params)
    result = ensure_source_data(root, settings.data, update=update)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    verbs = {
        "present": "is up to date",
        "checked_out": "restored from the DVC cache",
        "pulled": "pulled from the DVC remote",
        "generated": "generated from params.data",
        "updated": "regenerated and recorded in data.dvc" if result.tracked else "regenerated",
    }
    typer.echo(f"{result.data_dir} {verbs[result.action]} (data version {result.md5})")


@data_app.command()
@user_errors
def damage(
    params: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml with `data` and `damage` sections."),
    root: Path = typer.Option(Path("."), "--root", help="Repository root the section paths are relative to."),
) -> None:
    """Build the damaged dataset exactly as params.yaml says (the DVC stage `damage`)."""
    from seedvr.data.manifest import read_manifest
    from seedvr.data.stage import run_damage_stage

    manifest = run_damage_stage(load_params(params), root)
    table = read_manifest(manifest)
    counts = ", ".join(f"{split} {count}" for split, count in table["split"].value_counts().sort_index().items())
    typer.echo(f"wrote {len(table)} damaged clips ({counts}) to {manifest}")


@data_app.command()
@user_errors
def version(
    root: Path = typer.Option(Path("."), "--root", help="Repository root."),
    data_dir: str = typer.Option("data", "--data-dir", help="Tracked folder, relative to the root."),
) -> None:
    """Print the data version (md5 pinned by data.dvc) and the git commit."""
    from seedvr.versioning import data_version, git_commit

    typer.echo(f"data_version: {data_version(root, data_dir)}")
    typer.echo(f"git_commit: {git_commit(root) or 'none'}")
