"""E_warp, tOF and flicker: known answers on static scenes, rankings on moving ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seedvr.metrics import flicker, non_occluded_mask, tof, warping_error
from seedvr.models.flow import estimate_video_flows

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
