"""Chunked repair: same result as one pass for per-frame methods, cross-fade inside the mask only."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.baselines.classical import inpaint_frames
from seedvr.engine.streaming import crossfade_in_mask, stream_repair
from seedvr.errors import SeedVRError


def as_stream(frames, masks, piece):
    return ((frames[i : i + piece], masks[i : i + piece]) for i in range(0, len(frames), piece))


@pytest.fixture(scope="module")
def clip():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (23, 24, 20, 3), dtype=np.uint8)
    masks = rng.random((23, 24, 20)) < 0.2
    return frames, masks


@pytest.mark.parametrize("chunk, overlap, piece", [(1, 0, 1), (5, 2, 3), (4, 3, 7), (8, 0, 5), (64, 8, 4)])
def test_chunking_does_not_change_a_per_frame_method(clip, chunk, overlap, piece):
    frames, masks = clip
    whole = inpaint_frames(frames, masks, "telea")
    streamed = np.concatenate(
        list(stream_repair(as_stream(frames, masks, piece), lambda f, m: inpaint_frames(f, m, "telea"), chunk, overlap))
    )
    np.testing.assert_array_equal(streamed, whole)


def test_overlapping_windows_are_blended_inside_the_mask_only(clip):
    frames, masks = clip
    calls = []

    def window_dependent(window, window_masks):
        calls.append(len(window))
        value = 30 * len(calls)  # every window paints a different grey: blending must show
        return np.where(window_masks[..., None], np.uint8(value), window).astype(np.uint8)

    out = np.concatenate(list(stream_repair(as_stream(frames, masks, 4), window_dependent, chunk=6, overlap=3)))
    np.testing.assert_array_equal(out[~masks], frames[~masks])
    # Frames 3..5 are shared by windows 1 and 2: their hole pixels lie strictly between the two greys.
    shared = out[3:6][masks[3:6]]
    assert shared.min() > 30 and shared.max() < 60
    assert all(length <= 6 for length in calls)


def test_crossfade_weights_move_from_earlier_to_later():
    original = np.zeros((3, 1, 1, 3), np.uint8)
    earlier, later = np.full_like(original, 0), np.full_like(original, 200)
    blended = crossfade_in_mask(earlier, later, np.ones((3, 1, 1), bool), original)
    assert list(blended[:, 0, 0, 0]) == [50, 100, 150]


@pytest.mark.parametrize("chunk, overlap", [(0, 0), (4, 4), (4, 5), (4, -1)])
def test_bad_chunking_is_rejected(clip, chunk, overlap):
    frames, masks = clip
    with pytest.raises(SeedVRError):
        list(stream_repair(as_stream(frames, masks, 4), lambda f, m: f, chunk, overlap))
