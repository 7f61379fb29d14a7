"""Optical flow: the sign convention, rescaling from the reduced size, completion in holes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from seedvr.errors import SeedVRError
from seedvr.ops.flow import (
    FLOW_ESTIMATORS,
    PairFlowMemo,
    complete_flow,
    estimate_video_flows,
    farneback_flow,
    flows_per_dilation,
    harmonic_fill,
    temporal_completion,
)
from seedvr.ops.warp import backward_warp


def _textured(height: int, width: int) -> np.ndarray:
    return cv2.resize(data.astronaut()[0:300, 150:450], (width, height), interpolation=cv2.INTER_AREA)


def _warp_numpy(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    warped, _ = backward_warp(
        torch.from_numpy(image).permute(2, 0, 1)[None].float(), torch.from_numpy(flow).permute(2, 0, 1)[None]
    )
    return warped[0].permute(1, 2, 0).numpy()


def test_farneback_convention_on_a_known_shift():
    frame_from = _textured(64, 64)
    # frame_to(p + (3, 2)) = frame_from(p): the scene moved 3 px right and 2 px down.
    frame_to = np.roll(frame_from, shift=(2, 3), axis=(0, 1))
    flow = farneback_flow(frame_from, frame_to)
    assert flow.dtype == np.float32 and flow.shape == (64, 64, 2)
    interior = flow[10:-10, 10:-10]
    np.testing.assert_allclose(np.median(interior, axis=(0, 1)), [3.0, 2.0], atol=0.25)
    assert np.abs(interior - [3.0, 2.0]).mean() < 0.4
    reconstructed = _warp_numpy(frame_to, flow)
    assert np.abs(reconstructed[10:-10, 10:-10] - frame_from[10:-10, 10:-10]).mean() < 2.0


def test_every_estimator_follows_the_convention_and_dis_leaves_tiny_frames_to_farneback():
    grey_from = cv2.cvtColor(_textured(64, 64), cv2.COLOR_RGB2GRAY)
    grey_to = np.roll(grey_from, shift=(2, 3), axis=(0, 1))
    for name, measure in FLOW_ESTIMATORS.items():
        flow = measure(grey_from, grey_to)
        assert flow.dtype == np.float32 and flow.shape == (64, 64, 2), name
        np.testing.assert_allclose(np.median(flow[10:-10, 10:-10], axis=(0, 1)), [3.0, 2.0], atol=0.25, err_msg=name)
    # OpenCV's DIS refuses (or crashes on) frames this small; Farneback measures them instead.
    tiny_from, tiny_to = grey_from[:12, :40], grey_to[:12, :40]
    np.testing.assert_array_equal(FLOW_ESTIMATORS["dis"](tiny_from, tiny_to), FLOW_ESTIMATORS["farneback"](tiny_from, tiny_to))


def test_flow_measured_at_reduced_size_is_returned_in_full_resolution_pixels():
    frame_from = _textured(96, 128)
    frame_to = np.roll(frame_from, shift=(4, 8), axis=(0, 1))
    flow = farneback_flow(frame_from, frame_to, max_side=64)  # estimated at 64x48
    assert flow.shape == (96, 128, 2)
    np.testing.assert_allclose(np.median(flow[16:-16, 16:-16], axis=(0, 1)), [8.0, 4.0], atol=0.6)


def test_complete_flow_is_smooth_inside_and_unchanged_outside_the_dilated_hole():
    ys, xs = np.mgrid[0:48, 0:64].astype(np.float32)
    # An affine field is harmonic, so a good completion reproduces it from the border.
    truth = np.stack([0.05 * xs - 0.03 * ys + 1.0, 0.02 * xs + 0.04 * ys - 2.0], axis=-1).astype(np.float32)
    hole = np.zeros((48, 64), dtype=bool)
    hole[14:34, 20:44] = True
    garbage = truth.copy()
    garbage[hole] = np.random.default_rng(0).normal(0.0, 20.0, size=(int(hole.sum()), 2))
    dilation = 2
    completed = complete_flow(garbage, hole, dilation=dilation)
    assert completed.dtype == np.float32
    grown = cv2.dilate(hole.astype(np.uint8), np.ones((2 * dilation + 1,) * 2, np.uint8)).astype(bool)
    np.testing.assert_array_equal(completed[~grown], garbage[~grown])
    assert np.abs(completed - truth)[hole].max() < 0.1


def test_complete_flow_edge_cases():
    flow = np.random.default_rng(1).normal(size=(16, 16, 2)).astype(np.float32)
    np.testing.assert_array_equal(complete_flow(flow, np.zeros((16, 16), bool)), flow)
    np.testing.assert_array_equal(complete_flow(flow, np.ones((16, 16), bool)), np.zeros_like(flow))
    with pytest.raises(SeedVRError):
        complete_flow(flow, np.zeros((16, 15), bool))


def test_harmonic_fill_keeps_known_values_and_stays_within_their_range():
    values = _textured(40, 40)[..., 0].astype(np.float32)
    hole = np.zeros((40, 40), bool)
    hole[10:30, 5:25] = True
    filled = harmonic_fill(values, hole)
    np.testing.assert_array_equal(filled[~hole], values[~hole])
    # Maximum principle: a harmonic fill never leaves the range of its boundary values.
    assert values[~hole].min() - 1e-3 <= filled[hole].min() <= filled[hole].max() <= values[~hole].max() + 1e-3


def test_video_flows_shapes_and_direction(panning_clip):
    frames, _ = panning_clip
    forward, backward = estimate_video_flows(frames)
    assert forward.shape == backward.shape == (7, 64, 64, 2)
    # The crop window slides right, so the scene moves left by ~3 px per frame.
    np.testing.assert_allclose(np.median(forward[:, 8:-8, 8:-8], axis=(1, 2)).mean(0), [-3.0, 0.0], atol=0.5)
    np.testing.assert_allclose(np.median(backward[:, 8:-8, 8:-8], axis=(1, 2)).mean(0), [3.0, 0.0], atol=0.5)
    single, _ = estimate_video_flows(frames[:1])
    assert single.shape == (0, 64, 64, 2)


def test_completion_recovers_the_scene_motion_across_a_static_blotch(panning_clip):
    frames, masks = panning_clip
    damaged = frames.copy()
    damaged[masks] = 0  # a static black square: raw flow says "nothing moves" there
    raw, _ = estimate_video_flows(damaged)
    completed, _ = estimate_video_flows(damaged, masks)
    truth = np.array([-3.0, 0.0], dtype=np.float32)
    raw_error = np.abs(raw[:, masks[0]] - truth).mean()
    completed_error = np.abs(completed[:, masks[0]] - truth).mean()
    assert completed_error < 0.6 < raw_error


def test_flows_for_several_dilations_equal_one_estimate_each(panning_clip):
    frames, masks = panning_clip
    together = dict(flows_per_dilation(frames, masks, 64, (2, 9)))
    assert list(together) == [2, 9]
    for dilation, (forward, backward) in together.items():
        alone = estimate_video_flows(frames, masks, max_side=64, dilation=dilation)
        np.testing.assert_array_equal(forward, alone[0])
        np.testing.assert_array_equal(backward, alone[1])
    assert not np.array_equal(together[2][0], together[9][0])  # the dilation does matter


def test_a_memo_gives_the_next_window_its_shared_pairs_bit_for_bit(panning_clip):
    frames, masks = panning_clip
    count = len(frames)
    memo = PairFlowMemo(pairs=count)
    first = dict(flows_per_dilation(frames[: count - 2], masks[: count - 2], 64, (2, 9), memo))
    assert (memo.hits, memo.misses) == (0, count - 3)
    # The next window starts two frames later: every pair but its last one was measured before.
    second = dict(flows_per_dilation(frames[2:], masks[2:], 64, (2, 9), memo))
    assert (memo.hits, memo.misses) == (count - 5, count - 1)
    for dilation in (2, 9):
        alone = estimate_video_flows(frames[2:], masks[2:], max_side=64, dilation=dilation)
        np.testing.assert_array_equal(second[dilation][0], alone[0])
        np.testing.assert_array_equal(second[dilation][1], alone[1])
        np.testing.assert_array_equal(second[dilation][0][: count - 5], first[dilation][0][2:])


def test_a_memo_keeps_only_its_last_pairs_per_working_size(panning_clip):
    frames, masks = panning_clip
    memo = PairFlowMemo(pairs=2)
    for side in (32, 64):
        dict(flows_per_dilation(frames, masks, side, (9,), memo))
    # Each working size kept its own last two pairs: a window over the last three frames finds them.
    for side in (32, 64):
        dict(flows_per_dilation(frames[-3:], masks[-3:], side, (9,), memo))
    assert memo.hits == 4
    changed = masks.copy()
    changed[-1] = ~changed[-1]
    dict(flows_per_dilation(frames[-3:], changed[-3:], 64, (9,), memo))  # the last pair has another hole
    assert memo.hits == 5
    dict(flows_per_dilation(frames[:3], masks[:3], 64, (9,), memo))  # long gone: measured again
    assert memo.hits == 5
    with pytest.raises(SeedVRError):
        PairFlowMemo(pairs=0)


@pytest.mark.parametrize(
    "frames, masks",
    [
        (np.zeros((3, 16, 16, 3), np.float32), None),
        (np.zeros((3, 16, 16), np.uint8), None),
        (np.zeros((3, 16, 16, 3), np.uint8), np.zeros((2, 16, 16), bool)),
        (np.zeros((3, 16, 16, 3), np.uint8), np.zeros((3, 16, 16), np.float32)),
    ],
)
def test_bad_video_input_is_a_clear_error(frames, masks):
    with pytest.raises(SeedVRError):
        estimate_video_flows(frames, masks)


def test_bad_frame_pair_is_a_clear_error():
    frame = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(SeedVRError):
        farneback_flow(frame, np.zeros((16, 17, 3), np.uint8))
    with pytest.raises(SeedVRError):
        farneback_flow(frame, frame, max_side=2)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_backward_warp_keeps_whole_pixels_in_low_precision(dtype):
    # bf16 cannot hold the pixel grid of a 432-wide frame exactly (431 rounds to 432); the
    # warp must still sample each pixel at its own place under a zero flow.
    ramp = torch.arange(432, dtype=torch.float32).view(1, 1, 1, 432).expand(1, 1, 4, 432).to(dtype)
    warped, inside = backward_warp(ramp, torch.zeros(1, 2, 4, 432, dtype=dtype))
    assert warped.dtype == dtype and bool(inside.all())
    assert torch.equal(warped, ramp)


def test_temporal_completion_takes_the_nearest_pair_that_measured_the_pixel():
    size = (6, 8)
    measured = [np.full((*size, 4), float(index), dtype=np.float32) for index in range(5)]
    spatial = [np.full((*size, 4), -1.0, dtype=np.float32) for _ in range(5)]
    holes = [np.zeros(size, dtype=bool) for _ in range(5)]
    for index in (1, 2, 3):
        holes[index][2, 3] = True  # hidden in pairs 1-3: pair 2 must reach two pairs away
    holes[2][4, 4] = True  # hidden in pair 2 alone: the earlier neighbour comes first
    for index in range(5):
        holes[index][0, 0] = True  # hidden everywhere (a static logo): the spatial completion stays
    completed = temporal_completion(measured, holes, spatial, reach=2)
    assert completed[2][4, 4, 0] == 1.0
    assert completed[2][2, 3, 0] == 0.0 and completed[1][2, 3, 0] == 0.0 and completed[3][2, 3, 0] == 4.0
    assert (completed[2][0, 0] == -1.0).all()
    assert completed[2][5, 7, 0] == -1.0  # outside the hole: the given completion, untouched
    assert temporal_completion(measured, holes, spatial, reach=1)[2][2, 3, 0] == -1.0  # pairs 1 and 3 hidden too


def test_a_blotch_lasting_one_frame_gets_the_flow_its_neighbours_measured(panning_clip):
    frames, _ = panning_clip
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[4, 20:40, 20:40] = True  # frame 4 only: pairs 3 and 4 lose the place, pairs 2 and 5 see it
    damaged = frames.copy()
    damaged[masks] = 0
    measured_forward, measured_backward = estimate_video_flows(damaged)  # frames 2, 3, 5, 6 are intact
    forward, backward = estimate_video_flows(damaged, masks, dilation=2)
    hole = np.zeros_like(masks[0])
    hole[21:39, 21:39] = True  # well inside the grown hole
    np.testing.assert_array_equal(forward[3][hole], measured_forward[2][hole])  # pair 2 comes first
    np.testing.assert_array_equal(backward[3][hole], measured_backward[2][hole])
    np.testing.assert_array_equal(forward[4][hole], measured_forward[5][hole])  # pair 3 is hidden too: pair 5
