"""Flow propagation: holes filled from other frames, known pixels untouched, batching, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.ops.flow import estimate_video_flows, harmonic_fill
from seedvr.ops.propagation import HOP_WEIGHT_POWER, propagate_known_pixels, propagation_guess


def _psnr_in_mask(repaired: np.ndarray, truth: np.ndarray, masks: np.ndarray) -> float:
    error = np.mean((repaired.astype(np.float64) - truth.astype(np.float64))[masks] ** 2)
    return float(10.0 * np.log10(255.0**2 / max(error, 1e-12)))


def _to_tensors(frames: np.ndarray, masks: np.ndarray, forward: np.ndarray, backward: np.ndarray):
    """numpy video, masks and flows -> ``[1, T, ...]`` float tensors."""
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float()[None]
    hole = torch.from_numpy(masks).float()[None, :, None]
    flows = [torch.from_numpy(flow).permute(0, 3, 1, 2)[None] for flow in (forward, backward)]
    return video, hole, flows[0], flows[1]


def _translation_flows(count: int, height: int, width: int, dx: float, dy: float):
    forward = np.zeros((count - 1, height, width, 2), np.float32)
    forward[..., 0], forward[..., 1] = dx, dy
    return forward, -forward


@pytest.fixture(scope="module")
def damaged_clip(panning_clip):
    frames, masks = panning_clip
    damaged = frames.copy()
    damaged[masks] = 0
    return frames, damaged, masks


@pytest.fixture(scope="module")
def clip_flows(damaged_clip):
    _, damaged, masks = damaged_clip
    return estimate_video_flows(damaged, masks)


def test_propagation_fills_a_static_hole_on_a_panning_clip(damaged_clip, clip_flows):
    truth, damaged, masks = damaged_clip
    guess, validity = propagation_guess(damaged, masks, flows=clip_flows)
    assert guess.dtype == np.uint8 and guess.shape == truth.shape
    assert validity.dtype == bool and validity.shape == masks.shape
    filled = masks & validity
    assert filled.sum() > 0.8 * masks.sum()
    assert np.abs(guess.astype(float) - truth)[filled].mean() < 10.0
    telea = np.stack([cv2.inpaint(frame, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA) for frame, mask in zip(damaged, masks)])
    assert _psnr_in_mask(guess, truth, masks) > _psnr_in_mask(telea, truth, masks) + 1.0


def test_guess_equals_the_input_outside_the_mask_byte_for_byte(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    guess, validity = propagation_guess(damaged, masks, flows=clip_flows)
    np.testing.assert_array_equal(guess[~masks], damaged[~masks])
    assert validity[~masks].all()


def test_flows_are_estimated_when_not_given(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    given, _ = propagation_guess(damaged, masks, flows=clip_flows)
    estimated, _ = propagation_guess(damaged, masks)
    np.testing.assert_array_equal(given, estimated)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_propagation_on_the_gpu_fills_as_on_the_cpu(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    border = cv2.dilate(masks.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~masks
    on_cpu = propagation_guess(damaged, masks, flows=clip_flows, border=border)
    on_gpu = propagation_guess(damaged, masks, flows=clip_flows, border=border, device="cuda")
    np.testing.assert_array_equal(on_gpu[1], on_cpu[1])
    # Sub-pixel sampling may round differently on the two devices: by one level at most.
    assert np.abs(on_gpu[0].astype(int) - on_cpu[0].astype(int)).max() <= 1


def test_exact_flows_copy_source_pixels_exactly():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 256, size=(40, 80, 3), dtype=np.uint8)
    frames = np.stack([scene[:, 2 * t : 2 * t + 40] for t in range(6)])  # scene moves 2 px left
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 14:26, 14:26] = True
    forward, backward = _translation_flows(6, 40, 40, -2.0, 0.0)
    propagated, validity = propagate_known_pixels(*_to_tensors(frames, masks, forward, backward))
    reached = validity[0, :, 0].numpy() > 0.5
    # Column x of frame t is seen in frame t+k at x-2k and in frame t-k at x+2k: it can be
    # filled when one of those lands left of the hole (x-2k < 14) or right of it (x+2k >= 26)
    # within the clip.
    t, x = np.arange(6)[:, None], np.arange(40)[None, :]
    seen_later = np.ceil((x - 13) / 2) <= 5 - t
    seen_earlier = np.ceil((26 - x) / 2) <= t
    expected = ~masks | (seen_later | seen_earlier)[:, None, :]
    np.testing.assert_array_equal(reached, expected)
    # Integer motion: every filled pixel is a copy of the true scene pixel (no blur from
    # resampling along the chain).
    np.testing.assert_array_equal(propagated[0].permute(0, 2, 3, 1).numpy()[reached], frames[reached])


def test_both_passes_are_averaged_weighted_by_their_hops():
    # A still scene whose colour differs before and after three damaged frames: frame 1 sees
    # frame 0 one hop back and frame 4 three hops on, frame 2 both two hops away.
    frames = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    frames[:3], frames[3:] = 40, 200
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[1:4, 2:6, 2:6] = True
    forward, backward = _translation_flows(5, 8, 8, 0.0, 0.0)
    propagated, validity = propagate_known_pixels(*_to_tensors(frames, masks, forward, backward))
    fill = propagated[0, :, 0, 3, 3].numpy()
    assert (validity[0, :, 0].numpy() > 0.5).all()
    assert 40 < fill[1] < 120 < fill[3] < 200  # both sources felt, the nearer one more
    near, far = 1.0, 3.0**-HOP_WEIGHT_POWER  # frame 1's and frame 3's two sources
    expected = [(near * 40 + far * 200) / (near + far), 120.0, (far * 40 + near * 200) / (near + far)]
    np.testing.assert_allclose(fill[1:4], expected, rtol=1e-6)


def test_inconsistent_flows_are_rejected():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(4, 24, 24, 3), dtype=np.uint8)
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 8:16, 8:16] = True
    forward, _ = _translation_flows(4, 24, 24, 5.0, 0.0)
    # The reverse flow says "nothing moved": every hop fails the forward-backward check.
    _, validity = propagate_known_pixels(*_to_tensors(frames, masks, forward, np.zeros_like(forward)))
    assert not (validity[0, :, 0].numpy() > 0.5)[masks].any()


def test_known_pixels_are_returned_exactly_and_the_value_range_does_not_matter(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    video, hole, forward, backward = _to_tensors(damaged, masks, *clip_flows)
    unit = video / 255.0
    signed = unit * 2.0 - 1.0
    from_unit, validity_unit = propagate_known_pixels(unit, hole, forward, backward)
    from_signed, validity_signed = propagate_known_pixels(signed, hole, forward, backward)
    known = (hole < 0.5).expand_as(unit)
    assert torch.equal(from_unit[known], unit[known]) and torch.equal(from_signed[known], signed[known])
    assert torch.equal(validity_unit, validity_signed)
    torch.testing.assert_close(from_signed, from_unit * 2.0 - 1.0, atol=1e-5, rtol=0)


def test_batch_equals_items_one_at_a_time(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    first = _to_tensors(damaged, masks, *clip_flows)
    # A second, different item: the clip played backwards has the flows swapped and reversed.
    reverse_forward, reverse_backward = clip_flows[1][::-1].copy(), clip_flows[0][::-1].copy()
    second = _to_tensors(damaged[::-1].copy(), masks[::-1].copy(), reverse_forward, reverse_backward)
    batched = propagate_known_pixels(*(torch.cat(pair) for pair in zip(first, second)))
    for index, item in enumerate((first, second)):
        single = propagate_known_pixels(*item)
        torch.testing.assert_close(batched[0][index : index + 1], single[0], atol=1e-4, rtol=0)
        assert torch.equal(batched[1][index : index + 1], single[1])


def test_single_frame_and_empty_mask_are_returned_unchanged(damaged_clip):
    _, damaged, masks = damaged_clip
    no_flow = np.zeros((0, 64, 64, 2), np.float32)
    video, hole, forward, backward = _to_tensors(damaged[:1], masks[:1], no_flow, no_flow)
    propagated, validity = propagate_known_pixels(video, hole, forward, backward)
    assert torch.equal(propagated, video) and torch.equal(validity, 1.0 - hole)
    clean_masks = np.zeros_like(masks)
    guess, validity = propagation_guess(damaged, clean_masks)
    np.testing.assert_array_equal(guess, damaged)
    assert validity.all()


def test_unreachable_pixels_are_finished_by_a_smooth_fill():
    # A static camera and a static hole: no frame ever shows what is behind the hole.
    frames = np.repeat(np.random.default_rng(2).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8), 4, axis=0)
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 12:20, 12:20] = True
    damaged = frames.copy()
    damaged[masks] = 255
    guess, validity = propagation_guess(damaged, masks)
    assert not validity[masks].any()
    smooth = np.stack([np.clip(np.round(harmonic_fill(f.astype(np.float32), m)), 0, 255) for f, m in zip(damaged, masks)])
    np.testing.assert_array_equal(guess, smooth.astype(np.uint8))
    np.testing.assert_array_equal(guess[~masks], damaged[~masks])
    assert not (guess[masks] == 255).all()  # the damage's own colour is not read
    # A single frame has no neighbour at all: the smooth fill does everything.
    single, single_validity = propagation_guess(damaged[:1], masks[:1])
    np.testing.assert_array_equal(single, guess[:1])
    assert not single_validity[masks[:1]].any()


def test_where_no_frame_shows_the_background_a_gradient_is_continued_smoothly():
    # A still horizontal ramp: the smooth fill continues it inside the hole, to a level or two.
    ramp = np.tile(np.linspace(40, 200, 48, dtype=np.float32)[None, :, None], (32, 1, 3))
    frames = np.repeat(ramp.round().astype(np.uint8)[None], 3, axis=0)
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 8:24, 16:32] = True
    damaged = np.where(masks[..., None], 0, frames).astype(np.uint8)
    guess, _ = propagation_guess(damaged, masks)
    assert np.abs(guess.astype(int) - frames.astype(int))[masks].max() <= 2


def test_bad_shapes_and_parameters_are_clear_errors(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    video, hole, forward, backward = _to_tensors(damaged, masks, *clip_flows)
    with pytest.raises(SeedVRError):
        propagate_known_pixels(video[0], hole, forward, backward)
    with pytest.raises(SeedVRError):
        propagate_known_pixels(video, hole[:, :-1], forward, backward)
    with pytest.raises(SeedVRError):
        propagate_known_pixels(video, hole, forward[:, :-1], backward)
    with pytest.raises(SeedVRError):
        propagate_known_pixels(video, hole, forward, backward, consistency_threshold=0.0)
    with pytest.raises(SeedVRError):
        propagation_guess(damaged.astype(np.float32), masks)
    with pytest.raises(SeedVRError):
        propagation_guess(damaged, masks, flows=(clip_flows[0][:-1], clip_flows[1]))


def test_a_border_is_propagated_into_without_changing_the_holes_fill(damaged_clip, clip_flows):
    from seedvr.ops.blending import border_ring

    _, damaged, masks = damaged_clip
    ring = border_ring(masks)
    plain, plain_validity = propagation_guess(damaged, masks, flows=clip_flows)
    with_ring, validity = propagation_guess(damaged, masks, flows=clip_flows, border=ring)
    np.testing.assert_array_equal(with_ring[~ring], plain[~ring])
    np.testing.assert_array_equal(validity[~ring], plain_validity[~ring])
    assert validity[ring].mean() > 0.8  # the ring is reached where the pan uncovers it
    np.testing.assert_array_equal(with_ring[ring & ~validity], damaged[ring & ~validity])
    assert (with_ring[ring & validity] != damaged[ring & validity]).any()


def test_the_guess_is_the_whole_frame_propagation_rounded(damaged_clip, clip_flows):
    """propagation_guess writes only the pixels it visits; they must hold what
    propagate_known_pixels gives over whole frames, in the holes and on a border alike."""
    from seedvr.ops.blending import border_ring

    _, damaged, masks = damaged_clip
    ring = border_ring(masks)
    guess, valid = propagation_guess(damaged, masks, flows=clip_flows, consistency_threshold=1.5, border=ring)
    video, hole, forward, backward = _to_tensors(damaged, masks, *clip_flows)
    border = torch.from_numpy(ring)[None, :, None]
    propagated, validity = propagate_known_pixels(video, hole, forward, backward, consistency_threshold=1.5, border=border)
    expected = propagated[0].permute(0, 2, 3, 1).round().clamp(0, 255).to(torch.uint8).numpy()
    reached = validity[0, :, 0].numpy() > 0.5
    np.testing.assert_array_equal(valid, reached)
    assert (ring & reached).any()
    np.testing.assert_array_equal(guess[masks & reached], expected[masks & reached])
    np.testing.assert_array_equal(guess[ring], expected[ring])  # propagated where reached, else the frame
    np.testing.assert_array_equal(guess[~(masks | ring)], damaged[~(masks | ring)])


def test_exact_flows_fill_a_border_with_its_own_true_colours():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 256, size=(40, 80, 3), dtype=np.uint8)
    frames = np.stack([scene[:, 2 * t : 2 * t + 40] for t in range(6)])
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 14:26, 14:26] = True
    border = np.zeros_like(masks)
    border[:, 13:27, 13:27] = True
    border &= ~masks
    video, hole, forward, backward = _to_tensors(frames, masks, *_translation_flows(6, 40, 40, -2.0, 0.0))
    plain, plain_validity = propagate_known_pixels(video, hole, forward, backward)
    ring = torch.from_numpy(border)[None, :, None]
    propagated, validity = propagate_known_pixels(video, hole, forward, backward, border=ring)
    assert torch.equal(propagated, plain)  # integer motion: the border's copies are its own colours
    reached = validity[0, :, 0].numpy() > 0.5
    assert reached[border].mean() > 0.7 and not reached[border].all()
    np.testing.assert_array_equal(reached[~border], plain_validity[0, :, 0].numpy()[~border] > 0.5)


def test_a_border_must_lie_outside_the_holes(damaged_clip, clip_flows):
    _, damaged, masks = damaged_clip
    video, hole, forward, backward = _to_tensors(damaged, masks, *clip_flows)
    with pytest.raises(SeedVRError, match="overlap"):
        propagate_known_pixels(video, hole, forward, backward, border=hole > 0.5)
    with pytest.raises(SeedVRError, match="border must have shape"):
        propagate_known_pixels(video, hole, forward, backward, border=(hole > 0.5)[:, :-1])
