"""``seedvr validate``: exit 0 / 1 / 2 with readable output."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from seedvr.cli import app

runner = CliRunner()


@pytest.fixture()
def params_file(tmp_path):
    """An explicit params.yaml, so the tests never depend on the repository's own."""
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"validate": {"min_frames": 2, "mask_ratio": [0.001, 0.5]}}))
    return str(path)


def test_valid_dataset_exits_zero_and_writes_reports(tiny_dataset, tmp_path, params_file):
    report = tmp_path / "reports" / "validation.json"
    result = runner.invoke(app, ["validate", str(tiny_dataset), "--params", params_file, "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout
    assert json.loads(report.read_text())["success"] is True
    assert "PASSED" in report.with_suffix(".txt").read_text()


def test_invalid_dataset_exits_one_with_one_line_per_failure(dataset_copy, params_file):
    path = dataset_copy / "manifest.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[0, "frames"] = "7"
    table.to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(dataset_copy), "--params", params_file])
    assert result.exit_code == 1
    fail_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(fail_lines) == 3  # clean, damaged and mask frame counts
    assert all(table.loc[0, "clip_id"] in line and "manifest says 7" in line for line in fail_lines)


def test_missing_folder_exits_two_with_one_line(tmp_path, params_file):
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere"), "--params", params_file])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: dataset folder not found: {tmp_path / 'nowhere'}"]
    assert "Traceback" not in result.output


def test_folder_without_manifest_exits_two(tmp_path, params_file):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["validate", str(empty), "--params", params_file])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no manifest.csv or sources.json" in lines[0]


def test_explicit_missing_params_file_exits_two(tiny_dataset, tmp_path):
    result = runner.invoke(app, ["validate", str(tiny_dataset), "--params", str(tmp_path / "p.yaml")])
    assert result.exit_code == 2
    assert "params file not found" in result.stderr
