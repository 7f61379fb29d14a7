"""Fixtures of the repair tests: a small damaged clip on disk."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from media_samples import make_panning_clip

from seedvr.io import write_mask, write_video


@pytest.fixture(scope="module")
def damaged_files(tmp_path_factory) -> tuple[Path, Path]:
    """``clip.mkv`` (6 frames, 32x32, 30000/1001 fps) and its mask ``clip.mask.mkv``."""
    folder = tmp_path_factory.mktemp("repair-inputs")
    frames, masks = make_panning_clip(frames=6, size=32, step=2, hole=10)
    video = write_video(folder / "clip.mkv", frames, Fraction(30000, 1001))
    mask = write_mask(folder / "clip.mask.mkv", masks, Fraction(30000, 1001))
    return video, mask
