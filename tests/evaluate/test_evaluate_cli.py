"""``seedvr evaluate``: a working run, and one-line errors with a non-zero exit for bad input."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.evaluate.metrics_file import EvaluationMetrics

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["evaluate", *map(str, args)])


def test_classical_methods_from_the_command_line_with_params(tiny_dataset_dir, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"evaluate": {"methods": ["telea", "ns"], "strips": 1, "max_clips": 1}}))
    result = invoke("--data", tiny_dataset_dir, "--out", tmp_path / "eval", "--params", params)
    assert result.exit_code == 0, result.output
    metrics = EvaluationMetrics.from_file(tmp_path / "eval" / "metrics.json")
    assert list(metrics.methods) == ["telea", "ns"] and metrics.clips == 1
    assert len(list((tmp_path / "eval" / "strips").glob("*.png"))) == 1
    assert "evaluation written to" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--methods", "telea,magic"], "unknown method 'magic'"),
        (["--methods", "seedvr"], "method seedvr needs a model"),
        (["--methods", "telea", "--data", "{tmp}/missing"], "data folder not found"),
        (["--methods", "seedvr", "--model", "{tmp}", "--steps", "2"], "not a saved SeedVR pipeline folder"),
        (["--methods", "telea", "--params", "{tmp}/absent.yaml"], "params file not found"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tiny_dataset_dir, tmp_path, arguments, message):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    if "--data" not in arguments:
        arguments += ["--data", tiny_dataset_dir]
    result = invoke(*arguments, "--out", tmp_path / "eval")
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "eval").exists()
