"""``seedvr synth`` / ``seedvr damage``: a working run, and one line + nothing written on bad input."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.data.manifest import read_manifest

runner = CliRunner()


def test_synth_then_damage(tmp_path):
    data, damaged = tmp_path / "data", tmp_path / "damaged"
    result = runner.invoke(
        app,
        ["synth", "--out", str(data), "--clips", "3", "--frames", "3", "--size", "24x16", "--seed", "1", "--fps", "30000/1001"],
    )
    assert result.exit_code == 0, result.output
    assert len(list(data.glob("clip_*.mkv"))) == 3
    result = runner.invoke(
        app, ["damage", str(data), "--out", str(damaged), "--seed", "2", "--kinds", "dust,logo", "--mask-ratio", "0.05:0.2"]
    )
    assert result.exit_code == 0, result.output
    table = read_manifest(damaged / "manifest.csv")
    assert len(table) == 6 and set(table["fps"]) == {"30000/1001"}
    assert table["mask_ratio"].between(0.05, 0.2).all()


SYNTH_BAD = [
    ["--frames", "0"],
    ["--clips", "0"],
    ["--size", "0x10"],
    ["--size", "abc"],
    ["--fps", "-3"],
]


@pytest.mark.parametrize("arguments", SYNTH_BAD, ids=" ".join)
def test_synth_bad_input(tmp_path, arguments):
    out = tmp_path / "data"
    result = runner.invoke(app, ["synth", "--out", str(out), "--clips", "1", "--frames", "2", "--size", "16x16", *arguments])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tiny_sources(tmp_path_factory):
    from seedvr.data.synth import generate_source_clips

    folder = tmp_path_factory.mktemp("tiny") / "data"
    generate_source_clips(folder, clips=2, frames=2, width=16, height=16, seed=0)
    return folder


DAMAGE_BAD = [
    (["--kinds", "scratch,fire"], "unknown damage kind"),
    (["--mask-ratio", "0.9:0.1"], "0 < low <= high < 1"),
    (["--mask-ratio", "2:3"], "0 < low <= high < 1"),
    (["--mask-ratio", "lots"], "LOW:HIGH"),
    (["--val-fraction", "0.6", "--test-fraction", "0.5"], "leave clips for training"),
]


@pytest.mark.parametrize("arguments, message", DAMAGE_BAD, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_damage_bad_input(tmp_path, tiny_sources, arguments, message):
    out = tmp_path / "damaged"
    result = runner.invoke(app, ["damage", str(tiny_sources), "--out", str(out), *arguments])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


def test_damage_missing_or_empty_source(tmp_path):
    out = tmp_path / "damaged"
    result = runner.invoke(app, ["damage", str(tmp_path / "nowhere"), "--out", str(out)])
    assert result.exit_code != 0 and "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no clips here")
    result = runner.invoke(app, ["damage", str(empty), "--out", str(out)])
    assert result.exit_code != 0 and "holds no video clips" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty"]
