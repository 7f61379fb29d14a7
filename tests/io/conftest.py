"""Session fixtures for the io tests: source videos with an audio stream (built once)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from media_samples import make_video_with_audio


@pytest.fixture(scope="session")
def aac_source(tmp_path_factory) -> Path:
    """An MP4 with H.264 video and an AAC audio stream (30 frames at 30000/1001)."""
    path = tmp_path_factory.mktemp("sources") / "with_aac.mp4"
    make_video_with_audio(path, "aac", Fraction(30000, 1001), frames=30)
    return path


@pytest.fixture(scope="session")
def flac_source(tmp_path_factory) -> Path:
    """An MKV with H.264 video and a FLAC audio stream (25 frames at 25 fps)."""
    path = tmp_path_factory.mktemp("sources") / "with_flac.mkv"
    make_video_with_audio(path, "flac", Fraction(25), frames=25)
    return path
