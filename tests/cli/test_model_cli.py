"""``seedvr model info``: table and JSON parameter counts, one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from seedvr.cli import app

runner = CliRunner()


def test_json_counts_for_7b_are_in_range():
    result = runner.invoke(app, ["model", "info", "--preset", "7b", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert set(counts) == {"denoiser", "temporal_encoder", "detail_net", "texture_net", "total"}
    assert counts["total"] == sum(value for key, value in counts.items() if key != "total")
    assert 6.5e9 <= counts["total"] <= 7.5e9


def test_table_names_every_component():
    result = runner.invoke(app, ["model", "info", "--preset", "tiny"])
    assert result.exit_code == 0, result.output
    for word in ("denoiser", "temporal_encoder", "detail_net", "texture_net", "total", "SeedVRDenoiser"):
        assert word in result.stdout


def test_unknown_preset_exits_non_zero_with_one_line():
    result = runner.invoke(app, ["model", "info", "--preset", "huge"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown model preset 'huge'" in lines[0] and "7b" in lines[0]
    assert "Traceback" not in result.output
