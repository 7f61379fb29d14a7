"""``seedvr serve``: run the project's Prefect deployments from this process, no worker needed.

Serves ``batch-repair`` (every ``--interval`` seconds over ``--inbox`` -> ``--outbox``) and
``training-pipeline`` (on demand). Runs go to the Prefect API in ``PREFECT_API_URL`` when one
is configured. Otherwise a local server is used: the one already answering on
``127.0.0.1:--port``, or one started here (``prefect server start``, UI included) and stopped
on exit. A real server is needed because Prefect's temporary in-process API does not run the
scheduler, so schedules would never fire. For a shared server with the ``gpu`` process work
pool, use ``prefect deploy`` with ``prefect.yaml`` instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.errors import SeedVRError

BATCH_DEPLOYMENT = "batch-repair"
TRAINING_DEPLOYMENT = "training-pipeline"
SERVER_START_TIMEOUT_S = 180.0
SERVER_STOP_TIMEOUT_S = 20.0


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


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextlib.contextmanager
def _local_server(port: int) -> Iterator[str]:
    """The API URL of a Prefect server on ``127.0.0.1:port``, started here if none answers."""
    api_url = f"http://127.0.0.1:{port}/api"
    if _healthy(api_url):
        typer.echo(f"using the Prefect server already running at {api_url}", err=True)
        yield api_url
        return
    from prefect.settings import PREFECT_HOME

    log_path = Path(PREFECT_HOME.value()) / "seedvr-serve-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "ab") as log:
        # Its own session: a Ctrl-C meant for `serve` must not kill the server before serve
        # has paused its schedules through it.
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(api_url):
            if server.poll() is not None:
                raise SeedVRError(f"the Prefect server could not start on port {port}; see {log_path}")
            if time.monotonic() > deadline:
                raise SeedVRError(f"the Prefect server did not answer within {SERVER_START_TIMEOUT_S:.0f} s; see {log_path}")
            time.sleep(1.0)
        typer.echo(f"started a Prefect server at {api_url} (UI: http://127.0.0.1:{port}); log: {log_path}", err=True)
        yield api_url
    finally:
        _stop(server)


def _training_deployment(params: Path):
    """The training deployment, or ``None`` (with a note) while ``flows/training.py`` is absent."""
    try:
        from flows.training import training_pipeline
    except ModuleNotFoundError as error:
        if error.name != "flows.training":
            raise
        typer.echo("note: flows/training.py not found; serving batch-repair only", err=True)
        return None
    # The project root is the params file's folder (DVC reads params.yaml there), whatever
    # folder the run's process starts in.
    offered = {"params": str(params), "root": str(params.parent)}
    accepted = training_pipeline.parameters.properties
    parameters = {name: value for name, value in offered.items() if name in accepted}
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
    port: int = typer.Option(4200, help="Port of the local Prefect server used when PREFECT_API_URL is not set."),
) -> None:
    """Serve the batch-repair (scheduled) and training-pipeline deployments until Ctrl-C."""
    _use_runner_in_flow_runs(runner, dask_address, workers)
    from prefect import serve as serve_deployments
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.repair import batch_repair

    with contextlib.ExitStack() as stack:
        if not PREFECT_API_URL.value():
            api_url = stack.enter_context(_local_server(port))
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
            os.environ["PREFECT_API_URL"] = api_url  # for the child processes that run the flows
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
