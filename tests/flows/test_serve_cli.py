"""``seedvr serve``: its help, and one-line refusals before anything is served."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from seedvr.cli import app

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
