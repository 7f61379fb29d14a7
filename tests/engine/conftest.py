"""Fixtures of the repair tests: small damaged clips on disk."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from media_samples import make_panning_clip
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.io import write_mask, write_video


@pytest.fixture(scope="module")
def damaged_files(tmp_path_factory) -> tuple[Path, Path]:
    """``clip.mkv`` (6 frames, 32x32, 30000/1001 fps) and its mask ``clip.mask.mkv``."""
    folder = tmp_path_factory.mktemp("repair-inputs")
    frames, masks = make_panning_clip(frames=6, size=32, step=2, hole=10)
    video = write_video(folder / "clip.mkv", frames, Fraction(30000, 1001))
    mask = write_mask(folder / "clip.mask.mkv", masks, Fraction(30000, 1001))
    return video, mask


@pytest.fixture()
def clip_files(clip, tmp_path) -> tuple[Path, Path]:
    """The test module's own ``clip`` fixture (frames, masks) written as ``clip.mkv`` and its mask, at 25 fps."""
    frames, masks = clip
    video = write_video(tmp_path / "clip.mkv", frames, Fraction(25))
    return video, write_mask(tmp_path / "clip.mask.mkv", masks, Fraction(25))


@pytest.fixture()
def telea_cli_repair(clip_files, tmp_path):
    """``seedvr repair`` of ``clip_files`` with method telea and extra options: ``repair(name,
    *options)`` writes ``<name>.mkv`` and its report ``<name>.json`` in ``tmp_path``."""
    video, mask = clip_files

    def repair(name: str, *extra: str):
        output, report = tmp_path / f"{name}.mkv", tmp_path / f"{name}.json"
        arguments = ["repair", str(video), "--mask", str(mask), "-o", str(output), "--method", "telea", "--report", str(report)]
        return CliRunner().invoke(app, [*arguments, *extra])

    return repair
