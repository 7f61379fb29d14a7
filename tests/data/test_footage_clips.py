"""Training clips cut from real video: never from the benchmark's frames, written as sources."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from seedvr.data.footage import FootageSources, footage_views, write_footage_sources
from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, probe, read_video

FRAMES = 40


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory) -> Path:
    """A lossless video whose frame i is flat grey 5 * i: a clip's pixels say which frames it holds."""
    path = tmp_path_factory.mktemp("footage") / "numbered.mkv"
    with VideoWriter(path, Fraction(24), 64, 48) as writer:
        for index in range(FRAMES):
            writer.write(np.full((48, 64, 3), 5 * index, dtype=np.uint8))
    return path


def _frame_numbers(clip: np.ndarray) -> list[int]:
    return [round(float(frame.mean()) / 5) for frame in clip]


def test_views_read_only_frames_outside_the_taken_ranges(numbered_video):
    footage = FootageSources({"numbered": numbered_video}, {"numbered": [(0, 20), (30, 32)]})
    views = list(footage_views(6, footage, 8, 32, 24, np.random.default_rng(1)))
    assert len(views) == 6 and all(view.shape == (8, 24, 32, 3) for view in views)
    for view in views:
        numbers = _frame_numbers(view)
        assert numbers == list(range(numbers[0], numbers[0] + 8))  # consecutive frames
        assert 20 <= numbers[0] and numbers[-1] < 30 or numbers[0] >= 32  # inside one free window


def test_a_video_with_no_free_window_is_refused(numbered_video):
    footage = FootageSources({"numbered": numbered_video}, {"numbered": [(0, 35)]})
    views = footage_views(1, footage, 8, 32, 24, np.random.default_rng(0))
    with pytest.raises(SeedVRError, match="outside the benchmark's clips"):
        next(views)


def test_sources_are_written_replacing_earlier_ones_and_reproducible(numbered_video, tmp_path):
    (tmp_path / "footage_0007.mkv").write_bytes(b"stale")
    footage = FootageSources({"numbered": numbered_video}, {"numbered": [(0, 10)]})
    written = write_footage_sources(tmp_path, 2, footage, 6, 32, 24, seed=3)
    assert [path.name for path in written] == ["footage_0000.mkv", "footage_0001.mkv"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["footage_0000.mkv", "footage_0001.mkv"]
    first = [read_video(path) for path in written]
    assert all(probe(path).frames == 6 for path in written)
    again = write_footage_sources(tmp_path, 2, footage, 6, 32, 24, seed=3)
    assert all(np.array_equal(read_video(path), clip) for path, clip in zip(again, first, strict=True))
