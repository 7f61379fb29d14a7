"""E_warp (whole frame and in the mask), tOF and flicker: known answers on static scenes,
rankings on moving ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.metrics import (
    flicker,
    non_occluded_mask,
    tof,
    warping_error,
    warping_error_in_mask,
    warping_errors_in_mask,
)
from seedvr.ops.flow import estimate_video_flows

ALTERNATING = [6, -6, 6, -6, 6, -6, 6, -6]


def test_identical_videos_have_no_temporal_error(moving_video, static_video):
    assert tof(moving_video, moving_video) == 0.0
    assert flicker(moving_video, moving_video) == 0.0
    # On a static scene the flow is ~0 and the warp is exact: E_warp is 0 up to Farneback's
    # sub-1e-4-pixel noise. On moving content E_warp of the truth itself is small but not 0
    # (bilinear resampling and flow error): it is the floor a perfect method reaches.
    assert warping_error(static_video, static_video) < 1e-2
    assert warping_error(moving_video, moving_video) < 0.5


def test_warping_error_known_value_and_scale(static_video, offsets):
    # Frames alternate +6/-6 grey levels: every pair differs by 12 levels on all 3 channels,
    # so ||O_t - O_t+1||^2 = 3 * (12/255)^2 per pixel; reported in units of 1e-3.
    flickering = offsets(static_video, ALTERNATING)
    expected = 3 * (12 / 255) ** 2 * 1e3
    assert warping_error(flickering, static_video) == pytest.approx(expected, rel=1e-2)


def test_flicker_known_value(static_video, offsets):
    flickering = offsets(static_video, ALTERNATING)
    assert flicker(flickering, static_video) == pytest.approx(12 / 255, rel=1e-9)


def test_brightness_flicker_scores_worse_than_the_steady_video(moving_video, offsets):
    flickering = offsets(moving_video, ALTERNATING)
    steady = offsets(moving_video, [6] * len(moving_video))  # same error, but constant in time
    assert warping_error(flickering, moving_video) > 10 * warping_error(steady, moving_video)
    assert flicker(flickering, moving_video) > 0.04
    assert flicker(steady, moving_video) == 0.0


def test_tof_is_higher_for_a_jittered_video(moving_video):
    shifts = np.random.default_rng(0).integers(-3, 4, size=len(moving_video))
    jittered = np.stack([np.roll(frame, int(shift), axis=1) for frame, shift in zip(moving_video, shifts)])
    # Shifts of up to 6 px between frames in x only; tOF averages both flow components.
    assert tof(jittered, moving_video) > 0.2
    assert tof(jittered, moving_video) > 10 * tof(moving_video, moving_video) + 0.1


def test_shared_flows_give_the_same_numbers(moving_video, offsets):
    flickering = offsets(moving_video, ALTERNATING)
    forward, backward = estimate_video_flows(moving_video)
    assert warping_error(flickering, moving_video, (forward, backward)) == warping_error(flickering, moving_video)
    assert tof(flickering, moving_video, target_forward=forward) == pytest.approx(tof(flickering, moving_video))


def test_occlusion_check_drops_inconsistent_and_out_of_frame_pixels():
    height, width = 16, 16
    forward = np.zeros((height, width, 2), dtype=np.float32)
    forward[..., 0] = 3.0  # everything moves 3 px right
    backward = np.zeros_like(forward)
    backward[..., 0] = -3.0  # and the way back agrees
    keep = non_occluded_mask(forward, backward)
    assert keep[:, : width - 3].all()
    assert not keep[:, width - 3 :].any()  # matches fall outside frame t+1
    assert not non_occluded_mask(forward, np.zeros_like(forward))[:, : width - 3].any()


def test_single_frame_clips_have_no_temporal_metric(moving_video):
    one = moving_video[:1]
    assert math.isnan(warping_error(one, one))
    assert math.isnan(tof(one, one))
    assert math.isnan(flicker(one, one))


# -- E_warp inside the mask ---------------------------------------------------------------------


def _flicker_inside(video: np.ndarray, mask: np.ndarray, offsets) -> np.ndarray:
    """``video`` with a per-frame grey-level offset added inside ``mask`` only."""
    shifted = video.astype(np.int16)
    for t, offset in enumerate(offsets):
        shifted[t][mask[t]] += offset
    assert shifted.min() >= 0 and shifted.max() <= 255
    return shifted.astype(np.uint8)


def test_in_mask_warping_error_of_a_perfect_repair_is_the_truths_own_residual(moving_video, static_video, hole):
    # pred == target scores the target's own residual inside the region (bilinear resampling
    # and flow error): 0 up to Farneback noise on a static scene, small on a moving one.
    assert warping_error_in_mask(static_video, static_video, hole) < 1e-2
    assert warping_error_in_mask(moving_video, moving_video, hole) < 0.5


def test_in_mask_warping_error_known_value_on_a_static_scene(static_video, hole):
    # +6/-6 grey levels alternating inside the hole: every pair differs by 12 levels on the
    # 3 channels at every damaged pixel, as for the whole-frame E_warp of a flickering frame.
    flickering = _flicker_inside(static_video, hole, ALTERNATING)
    expected = 3 * (12 / 255) ** 2 * 1e3
    assert warping_error_in_mask(flickering, static_video, hole) == pytest.approx(expected, rel=2e-2)
    # The whole-frame figure dilutes the same flicker by the hole's share of the frame.
    assert warping_error(flickering, static_video) < 0.25 * expected


def test_flicker_inside_the_mask_scores_worse(moving_video, hole):
    flickering = _flicker_inside(moving_video, hole, ALTERNATING)
    steady = _flicker_inside(moving_video, hole, [6] * len(moving_video))  # wrong, but steady in time
    flows = estimate_video_flows(moving_video)
    truth = warping_error_in_mask(moving_video, moving_video, hole, flows)
    flicker_score = warping_error_in_mask(flickering, moving_video, hole, flows)
    assert flicker_score > 10 * truth + 1.0
    assert flicker_score > 5 * warping_error_in_mask(steady, moving_video, hole, flows)
    # In the mask the flicker stands out far more than over the whole frame.
    assert flicker_score > 3 * warping_error(flickering, moving_video, flows)


def test_pixels_outside_the_mask_do_not_change_the_in_mask_warping_error(moving_video, hole):
    flows = estimate_video_flows(moving_video)
    changed = moving_video.copy()
    # Rows 0-9 are far from the hole (rows 20-39) compared with the 2 px motion: outside the
    # repaired region and outside every bilinear footprint of its matches.
    noise = np.random.default_rng(0).integers(0, 256, size=changed[:, :10].shape, dtype=np.uint8)
    changed[:, :10] = noise
    unchanged = warping_error_in_mask(moving_video, moving_video, hole, flows)
    assert warping_error_in_mask(changed, moving_video, hole, flows) == unchanged
    assert warping_error(changed, moving_video, flows) > 10 * warping_error(moving_video, moving_video, flows)


def test_in_mask_warping_error_is_the_mean_of_its_pairs_and_needs_damage(moving_video, hole):
    flows = estimate_video_flows(moving_video)
    flickering = _flicker_inside(moving_video, hole, ALTERNATING)
    pairs = warping_errors_in_mask(flickering, hole, flows)
    assert pairs.shape == (len(moving_video) - 1,) and np.isfinite(pairs).all()
    assert warping_error_in_mask(flickering, moving_video, hole, flows) == pytest.approx(pairs.mean())
    # Damage on the first two frames only: later pairs have no region and are left out.
    early = hole.copy()
    early[2:] = False
    early_pairs = warping_errors_in_mask(flickering, early, flows)
    assert np.isfinite(early_pairs[:2]).all() and np.isnan(early_pairs[2:]).all()
    assert warping_error_in_mask(flickering, moving_video, early, flows) == pytest.approx(early_pairs[:2].mean())
    assert math.isnan(warping_error_in_mask(moving_video, moving_video, np.zeros_like(hole)))
    assert math.isnan(warping_error_in_mask(moving_video[:1], moving_video[:1], hole[:1]))
    with pytest.raises(SeedVRError, match="mask shape"):
        warping_error_in_mask(moving_video, moving_video, hole[:, :10])
