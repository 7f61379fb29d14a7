"""``seedvr registry show|promote``: the registered model's versions, aliases and promotion."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.config import load_params

registry_app = typer.Typer(
    help="MLflow model registry: versions, aliases (challenger, champion) and promotion gates.",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")

_ROOT_HELP = "Project root: the default store is sqlite:///<root>/mlflow/mlflow.db (MLFLOW_TRACKING_URI overrides)."


@registry_app.command()
@user_errors
def show(
    name: str | None = typer.Option(None, "--name", help="Registered model name (default: params.yaml register.model_name)."),
    params: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml with the `register` section."),
    root: Path = typer.Option(Path("."), "--root", help=_ROOT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON."),
) -> None:
    """List every version of the registered model with its aliases and promotion outcome."""
    from rich.console import Console
    from rich.table import Table

    from seedvr.modelstore.location import configure_tracking
    from seedvr.registry.models import list_versions

    model_name = name or (load_params(params).register_.model_name if params.is_file() else "seedvr-repair")
    uri = configure_tracking(root)
    versions = list_versions(model_name)
    if as_json:
        typer.echo(json.dumps([vars(version) | {"aliases": list(version.aliases)} for version in versions], indent=2))
        return
    table = Table(title=f"{model_name} in {uri}")
    for column in ("version", "aliases", "promotion", "psnr_mask", "run", "created (UTC)"):
        table.add_column(column)
    for version in versions:
        created = datetime.fromtimestamp(version.created / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            str(version.version),
            ", ".join(version.aliases),
            version.decision or "",
            version.psnr_mask or "",
            version.run_id or "",
            created,
        )
    Console().print(table)


@registry_app.command()
@user_errors
def promote(
    run_id: str = typer.Option(..., "--run-id", help="MLflow run whose logged model `model` is the candidate."),
    metrics: Path = typer.Option(..., "--metrics", help="The candidate's evaluation metrics.json."),
    champion_metrics: Path | None = typer.Option(
        None, "--champion-metrics", help="metrics.json of the current champion on the same evaluation set."
    ),
    params: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml with the `register` gates."),
    root: Path = typer.Option(Path("."), "--root", help=_ROOT_HELP),
) -> None:
    """Register the run's model as `challenger`; move `champion` to it only if the gates pass."""
    from seedvr.evaluate.metrics_file import EvaluationMetrics
    from seedvr.modelstore.location import configure_tracking
    from seedvr.registry.promotion import ChampionEvaluation, register_and_promote

    gates = load_params(params).register_
    candidate = EvaluationMetrics.from_file(metrics)
    champion = ChampionEvaluation(EvaluationMetrics.from_file(champion_metrics)) if champion_metrics is not None else None
    configure_tracking(root)
    result = register_and_promote(run_id, candidate, gates, champion)
    for reason in result.decision.reasons:
        typer.echo(f"  {reason}")
    verdict = "promoted to champion" if result.decision.promote else "rejected (champion unchanged)"
    typer.echo(f"{result.model_name} version {result.version}: {verdict}; aliases: {', '.join(result.aliases)}")


@registry_app.command()
@user_errors
def register(
    params: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml (logged; `register` holds the gates)."),
    model: Path = typer.Option(..., "--model", help="Trained pipeline folder (seedvr train output)."),
    eval_dir: Path = typer.Option(..., "--eval", help="Its evaluation folder (seedvr evaluate output, with metrics.json)."),
    data: Path = typer.Option(..., "--data", help="Damaged dataset the evaluation used (the champion is re-evaluated on it)."),
    out: Path = typer.Option(Path("work/registration.json"), "--out", help="Write the outcome here as JSON."),
    train_timings: Path | None = typer.Option(
        None, "--train-timings", help="seedvr train's --timings-file: its wall-clock seconds are logged as train/seconds."
    ),
    root: Path = typer.Option(Path("."), "--root", help=_ROOT_HELP),
    detector: Path | None = typer.Option(
        None,
        "--detector",
        help="Detector evaluated with the model (train_detector output): gated, logged with the version.",
    ),
) -> None:
    """The pipeline's register stage: log the run, register the model, promote it if the gates pass."""
    from seedvr.registry.stage import register_stage

    record = register_stage(
        load_params(params),
        model,
        eval_dir,
        data,
        repo_root=root,
        out_path=out,
        train_timings=train_timings,
        detector_dir=detector,
    )
    for reason in record["reasons"]:
        typer.echo(f"  {reason}")
    verdict = "promoted to champion" if record["promoted"] else "not promoted (champion unchanged)"
    typer.echo(f"{record['model_name']} version {record['version']}: {verdict}; aliases: {', '.join(record['aliases'])}")
    typer.echo(f"run: {record['run_url']}  (written to {out})")
