"""End to end on a real Prefect server: ``seedvr serve`` registers batch-repair, a run is
triggered through the API and a served child process repairs the inbox.

Everything runs on loopback with its own PREFECT_HOME (database, settings) in ``tmp_path``.
``seedvr serve`` gets no PREFECT_API_URL: it must find the server on its ``--port`` and hand
the URL on to the processes that run the flows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flow_samples import folder_fingerprint

from flows.cli import server_is_healthy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOYMENT = "batch-repair/batch-repair"
# Generous: a loaded 2-core machine starts a server and imports torch slowly.
SERVER_START_TIMEOUT_S = 180
DEPLOYMENT_TIMEOUT_S = 180
RUN_TIMEOUT_S = 180

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until(check, timeout_s: float, what: str, watched: list[subprocess.Popen], logs: list[Path]):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        for process, log in zip(watched, logs):
            if process.poll() is not None:
                pytest.fail(
                    f"{process.args[:3]} exited with {process.returncode} while waiting for {what}:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
        time.sleep(1.0)
    tails = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}\n{tails}")


@contextmanager
def _started(command: list[str], env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """A child in its own process group, stopped (with its own children) on exit."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # lets `serve` pause and the server shut down
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_served_batch_repair_deployment_runs_to_completion(tmp_path: Path, make_inbox) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = make_inbox(good=("a",), corrupt=("bad",))
    outbox = tmp_path / "outbox"
    inputs_before = folder_fingerprint(inbox)
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home = tmp_path / "prefect-home"
    env = {
        **{name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"},
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",  # skips building the UI bundle on a first start
        "DO_NOT_TRACK": "1",
        # `seedvr serve` is flows/ (the project may be installed without it mapped).
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server_command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    serve_command = [
        # What the `seedvr` console script runs (pyproject.toml: flows.cli:app, checked in
        # test_serve_cli.py), started by module so an older install's script cannot stand in.
        sys.executable,
        "-m",
        "flows.cli",
        "serve",
        "--inbox",
        str(inbox),
        "--outbox",
        str(outbox),
        "--port",
        str(port),
        "--method",
        "telea",
        "--interval",
        "0",
        "--no-training",
    ]

    with _started(server_command, env, server_log) as server:
        _wait_until(
            lambda: server_is_healthy(api_url), SERVER_START_TIMEOUT_S, "the server's /api/health", [server], [server_log]
        )
        with _started(serve_command, env, serve_log) as served, temporary_settings(updates={PREFECT_API_URL: api_url}):
            with get_client(sync_client=True) as client:

                def deployment_registered():
                    try:
                        return client.read_deployment_by_name(DEPLOYMENT)
                    except Exception:  # noqa: BLE001 - not there yet (ObjectNotFound) or server busy
                        return None

                deployment = _wait_until(
                    deployment_registered,
                    DEPLOYMENT_TIMEOUT_S,
                    "the served deployment",
                    [server, served],
                    [server_log, serve_log],
                )
                assert deployment.parameters["inbox"] == str(inbox)
                assert deployment.global_concurrency_limit.limit == 1  # runs never overlap

                flow_run = run_deployment(DEPLOYMENT, timeout=0, as_subflow=False)

                def finished():
                    state = client.read_flow_run(flow_run.id).state
                    return state if state is not None and state.is_final() else None

                state = _wait_until(finished, RUN_TIMEOUT_S, "the triggered flow run", [server, served], [server_log, serve_log])

    assert state.is_completed(), f"flow run ended {state.type}: {state.message}\n{serve_log.read_text()[-3000:]}"
    assert (outbox / "a.mkv").is_file() and (outbox / "a.report.json").is_file()
    assert (outbox / "quarantine" / "bad.error.json").is_file()
    assert folder_fingerprint(inbox) == inputs_before
