"""Blind mode's confirming repair reads its mask one chunk ahead: every chunk with the frames next to it."""

from __future__ import annotations

import numpy as np

from seedvr.engine.confirm import _with_neighbours
from seedvr.ops.damage_regions import confirming_region


def _numbered(frames: int) -> np.ndarray:
    """``frames`` masks of 2x2, frame ``t`` true at pixel ``t % 4`` (each frame tells itself apart)."""
    masks = np.zeros((frames, 2, 2), dtype=bool)
    masks.reshape(frames, 4)[np.arange(frames), np.arange(frames) % 4] = True
    return masks


def test_each_chunk_comes_with_the_frame_before_and_after_it():
    masks = _numbered(7)
    chunks = [masks[0:3], masks[3:6], masks[6:7]]
    seen = list(_with_neighbours(iter(chunks)))
    assert [len(chunk) for _, chunk, _ in seen] == [3, 3, 1]
    assert seen[0][0] is None and np.array_equal(seen[0][2], masks[3])
    assert np.array_equal(seen[1][0], masks[2]) and np.array_equal(seen[1][2], masks[6])
    assert np.array_equal(seen[2][0], masks[5]) and seen[2][2] is None
    assert list(_with_neighbours(iter([]))) == []


def test_a_region_written_chunk_by_chunk_is_the_whole_clips():
    masks = np.zeros((7, 24, 24), dtype=bool)
    for t in range(7):
        masks[t, :, 3 + 2 * t] = True  # a scratch wandering across the frame
    masks[4, 8:20, 8:20] = True  # a blotch
    streamed = [
        confirming_region(chunk, before, after)
        for before, chunk, after in _with_neighbours(iter([masks[:3], masks[3:6], masks[6:]]))
    ]
    np.testing.assert_array_equal(np.concatenate(streamed), confirming_region(masks))
