"""The ``seedvr`` command: the library's commands plus ``seedvr serve``, which needs Prefect.

``seedvr.cli`` never imports Prefect or this package, so the command that serves the
deployments is added here, on top, and the ``seedvr`` console script (pyproject.toml) runs
:data:`app` from this module: ``seedvr serve`` and ``python -m flows.cli serve`` are the same.

``seedvr serve`` runs the deployments of ``prefect.yaml`` (:mod:`flows.deployments`) from this
process, no worker needed: ``batch-repair`` (on its schedule, or every ``--interval`` seconds,
over ``--inbox`` -> ``--outbox``) and ``training-pipeline`` (on demand). Runs go to the
Prefect API in ``PREFECT_API_URL`` when one is configured. Otherwise a local server is used: the one already answering on
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

from flows.deployments import BATCH_DEPLOYMENT, TRAINING_DEPLOYMENT, declared_deployments, to_runner_deployment
from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.errors import SeedVRError
from seedvr.method_catalog import method_choices

SERVER_START_TIMEOUT_S = 180.0
SERVER_STOP_TIMEOUT_S = 20.0


def _use_runner_in_flow_runs(runner: str, dask_address: str | None, workers: int) -> None:
    """Export the runner choice: served runs import ``flows.repair`` afresh in child processes."""
    # Imported here, not at the top: every `seedvr` command starts from this module (the DVC
    # stages run several per pipeline), and only `serve` needs Prefect and the batch flow.
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


def server_is_healthy(api_url: str) -> bool:
    """Whether the Prefect API at ``api_url`` answers its health check."""
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
    if server_is_healthy(api_url):
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
        while not server_is_healthy(api_url):
            if server.poll() is not None:
                raise SeedVRError(f"the Prefect server could not start on port {port}; see {log_path}")
            if time.monotonic() > deadline:
                raise SeedVRError(f"the Prefect server did not answer within {SERVER_START_TIMEOUT_S:.0f} s; see {log_path}")
            time.sleep(1.0)
        typer.echo(f"started a Prefect server at {api_url} (UI: http://127.0.0.1:{port}); log: {log_path}", err=True)
        yield api_url
    finally:
        _stop(server)


@app.command()
@user_errors
def serve(
    inbox: Path = typer.Option(
        None, help="Folder watched by batch-repair: videos + NAME.mask.png masks (default: prefect.yaml's)."
    ),
    outbox: Path = typer.Option(None, help="Where repaired videos, reports and the ledger go (default: prefect.yaml's)."),
    interval: int = typer.Option(
        None, min=0, help="Seconds between batch-repair runs (default: prefect.yaml's schedule); 0 = on demand only."
    ),
    model: str = typer.Option(None, help="Pipeline folder or models:/NAME@ALIAS (default: prefect.yaml's)."),
    method: str = typer.Option(None, help=f"{method_choices()} (default: prefect.yaml's)"),
    device: str = typer.Option(None, help="auto | cpu | cuda (default: prefect.yaml's)"),
    params: Path = typer.Option(None, help="params.yaml for training-pipeline runs (default: prefect.yaml's)."),
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

    with contextlib.ExitStack() as stack:
        if not PREFECT_API_URL.value():
            api_url = stack.enter_context(_local_server(port))
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
            os.environ["PREFECT_API_URL"] = api_url  # for the child processes that run the flows
        deployments = [
            to_runner_deployment(
                BATCH_DEPLOYMENT, _batch_parameters(inbox, outbox, model=model, method=method, device=device), interval
            )
        ]
        if training:
            deployments.append(to_runner_deployment(TRAINING_DEPLOYMENT, _training_parameters(params)))
        serve_deployments(*deployments)


def _batch_parameters(inbox: Path | None, outbox: Path | None, **chosen) -> dict:
    """batch-repair's declared parameters, overridden by the options given; the folders made
    absolute, since runs start in child processes whose working folder is not ours to assume."""
    declared = declared_deployments()[BATCH_DEPLOYMENT].get("parameters") or {}
    parameters = {**declared, **{name: value for name, value in chosen.items() if value is not None}}
    for name, folder in (("inbox", inbox), ("outbox", outbox)):
        parameters[name] = str(Path(folder if folder is not None else declared[name]).resolve())
    return parameters


def _training_parameters(params: Path | None) -> dict:
    """The params file (absolute) and the project root, its folder, where DVC reads it."""
    declared = declared_deployments()[TRAINING_DEPLOYMENT].get("parameters") or {}
    chosen = (params or Path(declared.get("params", "params.yaml"))).resolve()
    return {"params": str(chosen), "root": str(chosen.parent)}


if __name__ == "__main__":
    app()
