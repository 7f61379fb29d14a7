"""Settled hole pixels: the fill matches the same place, undamaged, in a nearby frame."""

from __future__ import annotations

import torch

from seedvr.ops.settled import nearest_known, settled_pixels

FRAMES, HEIGHT, WIDTH = 6, 8, 10
LEVEL = 1.0 / 127.5  # one grey level in [-1, 1]


def static_clip(seed: int = 0) -> torch.Tensor:
    """One random picture repeated in every frame: a still camera over a still scene."""
    picture = torch.rand(1, 1, 3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return picture.expand(1, FRAMES, 3, HEIGHT, WIDTH).clone()


def hole_in(frames: list[int], rows=slice(2, 5), cols=slice(3, 7)) -> torch.Tensor:
    mask = torch.zeros(1, FRAMES, 1, HEIGHT, WIDTH)
    for index in frames:
        mask[:, index, :, rows, cols] = 1.0
    return mask


def test_a_fill_equal_to_the_undamaged_neighbour_is_settled_and_one_far_from_it_is_not():
    frames, mask = static_clip(), hole_in([2])
    hole = mask > 0.5
    assert torch.equal(settled_pixels(frames, frames, mask), hole)
    assert torch.equal(settled_pixels(frames + 10 * LEVEL, frames, mask, levels=16), hole)
    assert not settled_pixels(frames + 20 * LEVEL, frames, mask, levels=16).any()
    # One channel off by more than the levels is enough to leave the pixel to the networks.
    shifted = frames.clone()
    shifted[:, :, 1] += 20 * LEVEL
    assert not settled_pixels(shifted, frames, mask, levels=16).any()


def test_a_place_damaged_in_every_frame_within_reach_is_never_settled():
    frames = static_clip()
    assert not settled_pixels(frames, frames, hole_in(list(range(FRAMES)))).any()
    # Known only 4 frames away: found with a reach of 4, not of 3.
    mask = hole_in([0, 1, 2, 3])
    assert settled_pixels(frames, frames, mask, reach=4)[:, 0].any()
    assert not settled_pixels(frames, frames, mask, reach=3)[:, 0].any()


def test_the_nearest_known_frame_is_read_earlier_first_at_equal_distance():
    frames = torch.arange(FRAMES, dtype=torch.float32).view(1, FRAMES, 1, 1, 1).expand(1, FRAMES, 3, HEIGHT, WIDTH)
    values, found = nearest_known(frames, hole_in([2, 3]), reach=8)
    inside = (slice(None), slice(None), slice(2, 5), slice(3, 7))
    assert found[:, 2][inside[1:]].all() and found[:, 3][inside[1:]].all()
    assert (values[:, 2][inside] == 1.0).all()  # frames 1 and 4 are 1 and 2 away: frame 1
    assert (values[:, 3][inside] == 4.0).all()  # frames 4 and 1 are 1 and 2 away: frame 4
    assert not found[:, [0, 1, 4, 5]].any()  # no hole there: nothing to look up


def test_nothing_outside_the_holes_is_ever_settled():
    frames = static_clip(1)
    mask = hole_in([1, 4])
    assert not (settled_pixels(frames, frames, mask) & (mask < 0.5)).any()
