"""``seedvr serve``: its help, and one-line refusals before anything is served."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_serve_help_lists_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])

    assert result.exit_code == 0, result.output
    for option in ("--inbox", "--outbox", "--interval", "--runner", "--dask-address", "--no-training"):
        assert option in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--runner", "spark"], "unknown --runner 'spark'"), (["--workers", "0"], "--workers must be at least 1")],
)
def test_serve_refuses_bad_runner_settings_in_one_line(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["serve", *arguments])

    assert result.exit_code == 2
    assert f"error: {message}" in result.output
    assert "Traceback" not in result.output
    assert "SEEDVR_TASK_RUNNER" not in os.environ  # refused before anything was exported


def test_the_seedvr_console_script_runs_the_library_commands_plus_serve() -> None:
    import tomllib
    from pathlib import Path

    from seedvr.cli import app as library_app

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["seedvr"] == "flows.cli:app"
    assert app is library_app  # one command line: serve is added on top, nothing is copied
    commands = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert {"serve", "repair", "train", "evaluate"} <= commands


def test_served_deployments_are_prefect_yaml_s_declarations(tmp_path) -> None:
    from flows.deployments import BATCH_DEPLOYMENT, TRAINING_DEPLOYMENT, declared_deployments, to_runner_deployment

    declared = declared_deployments()
    batch = to_runner_deployment(BATCH_DEPLOYMENT, {"inbox": str(tmp_path / "in"), "outbox": str(tmp_path / "out")})
    training = to_runner_deployment(TRAINING_DEPLOYMENT, {"params": str(tmp_path / "params.yaml"), "root": str(tmp_path)})

    assert batch.description == declared[BATCH_DEPLOYMENT]["description"]
    assert batch.tags == declared[BATCH_DEPLOYMENT]["tags"]
    assert batch.entrypoint == declared[BATCH_DEPLOYMENT]["entrypoint"]
    assert batch.concurrency_limit == declared[BATCH_DEPLOYMENT]["concurrency_limit"] == 1
    assert [schedule.schedule.interval.total_seconds() for schedule in batch.schedules] == [900]
    assert batch.parameters["model"] == declared[BATCH_DEPLOYMENT]["parameters"]["model"]
    assert batch.parameters["inbox"] == str(tmp_path / "in")  # the command line's choice wins
    assert training.entrypoint == declared[TRAINING_DEPLOYMENT]["entrypoint"]
    assert not training.schedules
    # --interval 0: on demand only.
    assert not to_runner_deployment(BATCH_DEPLOYMENT, {"inbox": "i", "outbox": "o"}, interval=0).schedules
