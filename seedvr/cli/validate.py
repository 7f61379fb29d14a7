"""``seedvr validate``: run the Great Expectations suites on a dataset folder."""

from __future__ import annotations

from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.config import Params, load_params
from seedvr.errors import SeedVRError

VALIDATION_FAILED_EXIT = 1
DEFAULT_PARAMS = Path("params.yaml")


def load_params_or_defaults(params_path: Path | None) -> Params:
    """An explicit ``--params`` must exist; without it ``./params.yaml`` is used when present,
    otherwise the schema's defaults (so the command works outside the repository)."""
    if params_path is not None:
        return load_params(params_path)
    if DEFAULT_PARAMS.is_file():
        return load_params(DEFAULT_PARAMS)
    return Params()


@app.command()
@user_errors
def validate(
    dataset: Path = typer.Argument(
        ..., help="A damaged dataset folder (with manifest.csv) or a source folder (with sources.json)."
    ),
    params: Path | None = typer.Option(
        None, "--params", help="params.yaml to take bounds from (default: ./params.yaml if present)."
    ),
    report: Path | None = typer.Option(None, "--report", help="Write the report as JSON here, and as text next to it (.txt)."),
) -> None:
    """Check a dataset with the Great Expectations suites; exit 1 with one line per failure."""
    from seedvr.data.validation import (
        MANIFEST_NAME,
        SOURCES_NAME,
        render_report,
        validate_dataset,
        validate_sources,
    )

    if not dataset.exists():
        raise SeedVRError(f"dataset folder not found: {dataset}")
    if not dataset.is_dir():
        raise SeedVRError(f"dataset is not a folder: {dataset}")
    settings = load_params_or_defaults(params)
    if (dataset / MANIFEST_NAME).is_file():
        result = validate_dataset(dataset, settings.validate_)
    elif (dataset / SOURCES_NAME).is_file():
        result = validate_sources(dataset, settings.data)
    else:
        raise SeedVRError(f"no {MANIFEST_NAME} or {SOURCES_NAME} in {dataset}: nothing to validate")

    text = render_report(result)
    if report is not None:
        result.write_json(report)
        # The text sits next to the JSON: report.json -> report.txt (never over the JSON itself).
        text_path = report.with_suffix(".txt") if report.suffix != ".txt" else report.with_name(report.name + ".txt")
        temporary = text_path.with_name(f".{text_path.name}.tmp")
        temporary.write_text(text)
        temporary.replace(text_path)
    typer.echo(text, nl=False)
    if not result.success:
        raise typer.Exit(VALIDATION_FAILED_EXIT)
