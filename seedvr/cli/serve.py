"""``seedvr serve``: run the project's Prefect deployments from this process, no worker needed.

Serves ``batch-repair`` (every ``--interval`` seconds over ``--inbox`` -> ``--outbox``) and
``training-pipeline`` (on demand). Runs go to the Prefect API in ``PREFECT_API_URL``; without
one Prefect starts a temporary local server for as long as this command runs. For a shared
server with a ``gpu`` process work pool, use ``prefect deploy`` with ``prefect.yaml`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.errors import SeedVRError

BATCH_DEPLOYMENT = "batch-repair"
TRAINING_DEPLOYMENT = "training-pipeline"


def _use_runner_in_flow_runs(runner: str, dask_address: str | None, workers: int) -> None:
    """Export the runner choice: served runs import ``flows.repair`` afresh in child processes."""
    from flows.repair import DASK_ADDRESS_ENV, TASK_RUNNER_ENV, TASK_WORKERS_ENV

    if runner not in ("threads", "dask"):
        raise SeedVRError(f"unknown --runner {runner!r}; choose threads or dask")
    if workers < 1:
        raise SeedVRError(f"--workers must be at least 1, got {workers}")
    os.environ[TASK_RUNNER_ENV] = runner
    os.environ[TASK_WORKERS_ENV] = str(workers)
    if dask_address:
        os.environ[DASK_ADDRESS_ENV] = dask_address
    else:
        os.environ.pop(DASK_ADDRESS_ENV, None)


def _training_deployment(params: Path):
    """The training deployment, or ``None`` (with a note) while ``flows/training.py`` is absent."""
    try:
        from flows.training import training_pipeline
    except ModuleNotFoundError as error:
        if error.name not in ("flows.training",):
            raise
        typer.echo("note: flows/training.py not found; serving batch-repair only", err=True)
        return None
    accepted = training_pipeline.parameters.properties
    parameters = {"params": str(params)} if "params" in accepted else {}
    return training_pipeline.to_deployment(TRAINING_DEPLOYMENT, parameters=parameters)


@app.command()
@user_errors
def serve(
    inbox: Path = typer.Option(Path("inbox"), help="Folder watched by batch-repair: videos + NAME.mask.png masks."),
    outbox: Path = typer.Option(Path("outbox"), help="Where repaired videos, reports and the ledger go."),
    interval: int = typer.Option(900, min=0, help="Seconds between batch-repair runs; 0 = on demand only."),
    model: str = typer.Option("models:/seedvr-repair@champion", help="Pipeline folder or models:/NAME@ALIAS."),
    method: str = typer.Option("seedvr", help="seedvr | propagate | telea | ns"),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    params: Path = typer.Option(Path("params.yaml"), help="params.yaml for training-pipeline runs."),
    training: bool = typer.Option(True, "--training/--no-training", help="Also serve training-pipeline."),
    runner: str = typer.Option("threads", help="threads | dask: where batch-repair runs its videos."),
    dask_address: str = typer.Option(None, help="Dask scheduler address (runner dask); default: a local cluster."),
    workers: int = typer.Option(2, help="Videos repaired at once (threads) or local Dask workers."),
) -> None:
    """Serve the batch-repair (scheduled) and training-pipeline deployments until Ctrl-C."""
    _use_runner_in_flow_runs(runner, dask_address, workers)
    from prefect import serve as serve_deployments

    from flows.repair import batch_repair

    # Absolute paths: runs start in child processes whose working folder is not ours to assume.
    parameters = {
        "inbox": str(inbox.resolve()), "outbox": str(outbox.resolve()),
        "model": model, "method": method, "device": device,
    }
    deployments = [batch_repair.to_deployment(
        BATCH_DEPLOYMENT, interval=interval or None, parameters=parameters,
        # One run at a time: a slow batch must not be raced by the next scheduled one.
        concurrency_limit=1,
    )]
    if training:
        training_deployment = _training_deployment(params.resolve())
        if training_deployment is not None:
            deployments.append(training_deployment)
    serve_deployments(*deployments)
