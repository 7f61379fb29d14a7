"""Classical baselines: exact outside the mask, actually repairing inside it, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from media_samples import make_panning_clip

from seedvr.baselines import CLASSICAL_METHODS, inpaint_frames
from seedvr.baselines.classical import for_one_stream, propagate_repair, telea_repair
from seedvr.errors import SeedVRError
from seedvr.metrics import psnr
from seedvr.ops.fusion import FLOW_REFINEMENTS


@pytest.fixture(scope="module")
def clip():
    return make_panning_clip(frames=6, size=48, step=3, hole=12)


@pytest.mark.parametrize("method", sorted(CLASSICAL_METHODS))
def test_exact_outside_the_mask_and_better_than_the_hole_inside(clip, method):
    frames, masks = clip
    damaged = frames.copy()
    damaged[masks] = 0
    repaired = CLASSICAL_METHODS[method](damaged, masks)
    assert repaired.dtype == np.uint8 and repaired.shape == frames.shape
    np.testing.assert_array_equal(repaired[~masks], damaged[~masks])
    assert psnr(repaired, frames, masks) > psnr(damaged, frames, masks) + 5.0


def test_propagation_beats_per_frame_inpainting_on_a_panning_clip(clip):
    frames, masks = clip
    propagated = CLASSICAL_METHODS["propagate"](frames, masks)
    telea = inpaint_frames(frames, masks, "telea")
    assert psnr(propagated, frames, masks) > psnr(telea, frames, masks)


def test_frames_without_a_hole_are_copied(clip):
    frames, masks = clip
    masks = masks.copy()
    masks[1] = False
    np.testing.assert_array_equal(inpaint_frames(frames, masks, "ns")[1], frames[1])


@pytest.mark.parametrize(
    "frames, masks, kwargs",
    [
        (np.zeros((2, 8, 8, 3), np.float32), np.zeros((2, 8, 8), bool), {}),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 9), bool), {}),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8), bool), {"method": "magic"}),
        (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8), bool), {"radius": 0}),
    ],
)
def test_bad_input_is_a_clear_error(frames, masks, kwargs):
    with pytest.raises(SeedVRError):
        inpaint_frames(frames, masks, **kwargs)


def test_a_streamed_propagate_measures_shared_frames_once_with_the_same_result(clip, flow_measurements):
    frames, masks = clip
    streamed = for_one_stream(propagate_repair)
    first = streamed(frames[:4], masks[:4])
    second = streamed(frames[2:], masks[2:])
    # 48x48 frames: every hypothesis of an estimator shares one working size. Pairs (0,1)..(2,3),
    # then only (3,4) and (4,5): the window's first pair (2,3) was measured by the window before.
    # The refinement passes measure each window's own repair (3 pairs), which no memo can keep.
    # Both directions, by each estimator.
    per_estimator = 2 * (3 + 2) + 2 * 2 * 3 * FLOW_REFINEMENTS
    assert sorted(flow_measurements) == ["dis"] * per_estimator + ["farneback"] * per_estimator
    np.testing.assert_array_equal(first, propagate_repair(frames[:4], masks[:4]))
    np.testing.assert_array_equal(second, propagate_repair(frames[2:], masks[2:]))
    assert for_one_stream(telea_repair) is telea_repair
