"""The seam a fill leaves at its hole's border: zero for the true picture, large for a wrong one."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.ops.blending import border_ring
from seedvr.ops.seams import HoleBorders, RingPredictions


@pytest.fixture(scope="module")
def textured_clip():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(3, 32, 40, 3), dtype=np.uint8)
    frames[:] = np.clip(frames.astype(np.int32) // 8 + 100, 0, 255).astype(np.uint8)  # gentle texture
    masks = np.zeros((3, 32, 40), dtype=bool)
    masks[0, 8:20, 10:22] = True
    masks[2, 4:8, 30:38] = True
    return frames, masks


def test_the_true_fill_leaves_a_small_seam_and_a_wrong_one_a_large_one(textured_clip):
    frames, masks = textured_clip
    truth = HoleBorders(frames, masks, spread=4.0).mismatch(frames)
    wrong = frames.copy()
    wrong[masks] = 255
    broken = HoleBorders(frames, masks, spread=4.0).mismatch(wrong)
    assert truth.dtype == np.float32 and truth.shape == masks.shape
    assert truth[masks].max() < 10 and broken[masks].min() > 100
    # Nothing is measured outside the holes, nor in a frame without one.
    assert not truth[~masks].any() and not broken[1].any()


def test_the_seam_is_read_from_the_nearest_border(textured_clip):
    frames, masks = textured_clip
    fill = frames.copy()
    fill[0, 8:20, 10:16] = 255  # the left half of the first hole is wrong
    seam = HoleBorders(frames, masks, spread=2.0).mismatch(fill)
    assert seam[0, 14, 10] > 4 * seam[0, 14, 21]


@pytest.mark.parametrize("spread", [0.0, -1.0])
def test_a_spread_that_is_not_positive_is_refused(textured_clip, spread):
    frames, masks = textured_clip
    with pytest.raises(SeedVRError, match="spread must be positive"):
        HoleBorders(frames, masks, spread)


def test_a_fill_of_another_shape_is_refused(textured_clip):
    frames, masks = textured_clip
    with pytest.raises(SeedVRError, match="fill must be uint8"):
        HoleBorders(frames, masks, 2.0).mismatch(frames[:, :16])


def test_a_fill_that_predicts_the_ring_right_has_no_ring_error_and_a_wrong_one_a_large_one(textured_clip):
    frames, masks = textured_clip
    predictions = RingPredictions(frames, masks, border_ring(masks), spread=4.0)
    right = predictions.error(frames)
    wrong_fill = frames.copy()
    wrong_fill[border_ring(masks)] = 255
    wrong = predictions.error(wrong_fill)
    assert right.dtype == np.float32 and right.shape == masks.shape
    assert not right.any()
    assert wrong[masks].min() > 100
    # Only the hole pixels carry the error, and a frame without a hole has none.
    assert not wrong[~masks].any() and not wrong[1].any()


def test_the_ring_error_ignores_the_hole_itself(textured_clip):
    # The seam reads the fill inside the hole; the ring error reads only what was predicted around it.
    frames, masks = textured_clip
    fill = frames.copy()
    fill[masks] = 0
    assert not RingPredictions(frames, masks, border_ring(masks), spread=4.0).error(fill).any()
    assert HoleBorders(frames, masks, spread=4.0).mismatch(fill)[masks].min() > 50


def test_a_ring_over_the_holes_or_of_another_shape_is_refused(textured_clip):
    frames, masks = textured_clip
    with pytest.raises(SeedVRError, match="known pixels only"):
        RingPredictions(frames, masks, border_ring(masks) | masks, 2.0)
    with pytest.raises(SeedVRError, match="ring must have shape"):
        RingPredictions(frames, masks, border_ring(masks)[:, :16], 2.0)
    with pytest.raises(SeedVRError, match="spread must be positive"):
        RingPredictions(frames, masks, border_ring(masks), 0.0)
    with pytest.raises(SeedVRError, match="fill must be uint8"):
        RingPredictions(frames, masks, border_ring(masks), 2.0).error(frames[:, :16])
