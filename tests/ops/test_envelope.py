"""The model's correction bounded by the guess' temporal envelope."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.ops.envelope import bound_by_temporal_envelope

FRAMES, HEIGHT, WIDTH = 3, 16, 20


def still_flows() -> tuple[np.ndarray, np.ndarray]:
    zero = np.zeros((FRAMES - 1, HEIGHT, WIDTH, 2), np.float32)
    return zero, zero.copy()


def hole_in_middle_frame() -> np.ndarray:
    masks = np.zeros((FRAMES, HEIGHT, WIDTH), bool)
    masks[1, 4:10, 5:12] = True
    return masks


def picture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(60, 160, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


def guess_brightening_by(offsets: tuple[int, ...]) -> np.ndarray:
    """A still picture lit ``offsets[t]`` grey levels brighter in frame t."""
    base = picture().astype(np.int16)
    return np.stack([base + offset for offset in offsets]).astype(np.uint8)


def test_a_still_guess_leaves_the_model_no_room():
    guess = guess_brightening_by((0, 0, 0))
    masks = hole_in_middle_frame()
    repaired = guess.copy()
    repaired[masks] = 255
    bounded = bound_by_temporal_envelope(repaired, guess, masks, flows=still_flows())
    assert np.array_equal(bounded, guess)


def test_the_correction_goes_at_most_the_share_of_the_way_to_the_envelope_edges():
    # Frame 1's envelope runs from frame 0 (10 levels darker) to frame 2 (20 levels brighter):
    # half the way is 5 levels down and 10 up.
    guess = guess_brightening_by((0, 10, 30))
    masks = hole_in_middle_frame()
    centre = guess[1].astype(np.int16)
    for change, expected in ((40, 10), (-30, -5), (7, 7), (-4, -4)):
        repaired = guess.copy()
        repaired[1] = (centre + change).astype(np.uint8)
        bounded = bound_by_temporal_envelope(repaired, guess, masks, share=0.5, flows=still_flows())
        hole = masks[1]
        assert np.array_equal(bounded[1][hole].astype(np.int16), (centre + expected)[hole])
        # Outside the holes nothing is touched, even where the repair strays.
        assert np.array_equal(bounded[1][~hole], repaired[1][~hole])
        assert np.array_equal(bounded[[0, 2]], repaired[[0, 2]])


def test_share_zero_returns_the_guess_and_share_one_the_whole_envelope():
    guess = guess_brightening_by((0, 10, 30))
    masks = hole_in_middle_frame()
    repaired = guess.copy()
    repaired[1] = guess[1] + 15
    hole = masks[1]
    at_zero = bound_by_temporal_envelope(repaired, guess, masks, share=0.0, flows=still_flows())
    assert np.array_equal(at_zero[1][hole], guess[1][hole])
    at_one = bound_by_temporal_envelope(repaired, guess, masks, share=1.0, flows=still_flows())
    assert np.array_equal(at_one[1][hole], repaired[1][hole])


def test_the_flow_is_measured_on_the_guess_when_not_given():
    guess = guess_brightening_by((0, 0, 0))
    masks = hole_in_middle_frame()
    repaired = guess.copy()
    repaired[masks] = 0
    bounded = bound_by_temporal_envelope(repaired, guess, masks)
    # A still picture: the measured flow is (near) zero, so the guess stands within a level.
    assert np.abs(bounded.astype(np.int16) - guess.astype(np.int16)).max() <= 1


def test_a_single_frame_has_no_motion_to_bound_by():
    guess = picture()[None]
    masks = np.zeros((1, HEIGHT, WIDTH), bool)
    masks[0, 2:6, 2:6] = True
    repaired = guess.copy()
    repaired[masks] = 0
    assert np.array_equal(bound_by_temporal_envelope(repaired, guess, masks), repaired)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share):
    guess = guess_brightening_by((0, 0, 0))
    with pytest.raises(ValueError, match="share"):
        bound_by_temporal_envelope(guess, guess, hole_in_middle_frame(), share=share, flows=still_flows())
