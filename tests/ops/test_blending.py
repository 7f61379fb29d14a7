"""Gradient-domain blending: an exact harmonic solve, lossless outside the holes, and a fill
whose lighting drifted from the frame it fills brought back toward it."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.ops.blending import ShapedBlend, blend_record, blended, border_ring, check_blend, harmonic_inside
from seedvr.ops.propagation import propagation_guess


def _psnr_in_mask(repaired: np.ndarray, truth: np.ndarray, masks: np.ndarray) -> float:
    error = np.mean((repaired.astype(np.float64) - truth.astype(np.float64))[masks] ** 2)
    return float(10.0 * np.log10(255.0**2 / max(error, 1e-12)))


def test_the_ring_is_the_known_pixels_touching_a_hole():
    masks = np.zeros((2, 9, 9), dtype=bool)
    masks[0, 3:6, 3:6] = True
    ring = border_ring(masks)
    expected = np.zeros((9, 9), dtype=bool)
    expected[2:7, 2:7] = True
    expected[3:6, 3:6] = False
    np.testing.assert_array_equal(ring[0], expected)
    assert not ring[1].any()


def test_a_linear_boundary_is_continued_exactly_inside_the_hole():
    # The discrete Laplacian of a linear function is zero: the solve must give it back.
    rows, cols = np.mgrid[0:20, 0:30].astype(np.float64)
    values = np.stack([2.0 * rows - cols + 5.0, 0.5 * cols, np.full_like(rows, 7.0)], axis=-1)
    hole = np.zeros((20, 30), dtype=bool)
    hole[4:15, 6:25] = True
    hole[10:13, 2:6] = True  # not convex
    inside = harmonic_inside(np.where(hole[..., None], 1e6, values), hole)
    np.testing.assert_allclose(inside, values[hole], atol=1e-8)


def test_a_hole_without_known_pixels_gets_no_correction_and_an_empty_one_nothing():
    values = np.ones((6, 6, 3))
    assert harmonic_inside(values, np.ones((6, 6), dtype=bool)).tolist() == np.zeros((36, 3)).tolist()
    assert harmonic_inside(values, np.zeros((6, 6), dtype=bool)).shape == (0, 3)


@pytest.fixture(scope="module")
def drifting_clip():
    """A pan of 2 px per frame over random texture that brightens by 6 levels a frame, with a
    static hole: propagation copies pixels from frames lit differently."""
    rng = np.random.default_rng(3)
    scene = rng.integers(40, 180, size=(40, 80, 3)).astype(np.float32)
    frames = np.stack([np.clip(scene[:, 2 * t : 2 * t + 40] + 6 * t, 0, 255) for t in range(8)]).astype(np.uint8)
    masks = np.zeros(frames.shape[:3], dtype=bool)
    masks[:, 12:28, 12:28] = True
    damaged = frames.copy()
    damaged[masks] = 0
    forward = np.zeros((7, 40, 40, 2), np.float32)
    forward[..., 0] = -2.0
    ring = border_ring(masks)
    with_ring, _ = propagation_guess(damaged, masks, flows=(forward, -forward), border=ring)
    fill = np.where(masks[..., None], with_ring, damaged)
    return frames, damaged, masks, fill, with_ring


def test_blending_brings_a_drifted_fill_toward_the_frames_lighting(drifting_clip):
    truth, damaged, masks, fill, with_ring = drifting_clip
    repaired = blended(fill, damaged, masks, with_ring, strength=1.0)
    np.testing.assert_array_equal(repaired[~masks], damaged[~masks])
    assert _psnr_in_mask(repaired, truth, masks) > _psnr_in_mask(fill, truth, masks) + 1.0
    half = blended(fill, damaged, masks, with_ring, strength=0.5)
    assert _psnr_in_mask(fill, truth, masks) < _psnr_in_mask(half, truth, masks) < _psnr_in_mask(repaired, truth, masks)


def test_a_fill_that_matches_its_ring_is_left_alone_and_strength_zero_changes_nothing(drifting_clip):
    _, damaged, masks, fill, with_ring = drifting_clip
    np.testing.assert_array_equal(blended(fill, damaged, masks, damaged, strength=1.0), fill)
    np.testing.assert_array_equal(blended(fill, damaged, masks, with_ring, strength=0.0), fill)


def test_bad_strength_and_shapes_are_clear_errors(drifting_clip):
    _, damaged, masks, fill, with_ring = drifting_clip
    with pytest.raises(SeedVRError, match=r"blend must be in \[0, 1\]"):
        blended(fill, damaged, masks, with_ring, strength=1.5)
    with pytest.raises(SeedVRError, match="shape"):
        blended(fill[:, :-1], damaged, masks, with_ring)


def _uniformly_dark_fill():
    """A frame with a blotch-shaped hole (a 12 px square) and a scratch-shaped one (a 1 px
    line down the frame), filled 20 levels too dark everywhere, the ring included: the
    harmonic correction is +20 on every hole pixel."""
    rng = np.random.default_rng(5)
    frames = rng.integers(40, 200, size=(1, 40, 60, 3)).astype(np.uint8)
    masks = np.zeros((1, 40, 60), dtype=bool)
    square, line = np.zeros_like(masks), np.zeros_like(masks)
    square[0, 10:22, 8:20] = True
    line[0, :, 40] = True
    masks = square | line
    dark = (frames.astype(np.int16) - 20).astype(np.uint8)
    guess = np.where(masks[..., None], dark, frames)
    return frames, masks, guess, dark, square, line


def test_a_shaped_blend_corrects_lines_and_blotches_by_their_own_shares():
    frames, masks, guess, ring_fill, square, line = _uniformly_dark_fill()
    shaped = blended(guess, frames, masks, ring_fill, strength=ShapedBlend(lines=0.5, blotches=0.0))
    np.testing.assert_array_equal(shaped[square], guess[square])
    np.testing.assert_array_equal(shaped[line].astype(np.int16), guess[line].astype(np.int16) + 10)
    np.testing.assert_array_equal(shaped[~masks], frames[~masks])
    # One share for both shapes is the plain share, bit for bit.
    even = blended(guess, frames, masks, ring_fill, strength=ShapedBlend(lines=0.5, blotches=0.5))
    np.testing.assert_array_equal(even, blended(guess, frames, masks, ring_fill, strength=0.5))
    assert not np.array_equal(even, shaped)


@pytest.mark.parametrize("blend", [-0.5, 1.5, ShapedBlend(lines=0.75, blotches=-0.1), ShapedBlend(lines=2.0, blotches=0.0)])
def test_a_share_outside_zero_to_one_is_refused(blend):
    with pytest.raises(SeedVRError, match=r"blend must be in \[0, 1\]"):
        check_blend(blend)


def test_a_shaped_blend_is_recorded_by_name():
    assert blend_record(ShapedBlend(lines=0.75, blotches=0.0)) == {"lines": 0.75, "blotches": 0.0}
    assert blend_record(0.5) == 0.5
