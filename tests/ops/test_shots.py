"""Scene cuts: two shots are told apart, a pan, damage or a walker are not a cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from seedvr.data.photos import PHOTO_NAMES, load_photo
from seedvr.ops.shots import is_cut, shot_slices


def photo(index: int, size=(160, 96)) -> np.ndarray:
    return cv2.resize(np.array(load_photo(PHOTO_NAMES[index])), size, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def shot_a() -> np.ndarray:
    return photo(0)


@pytest.fixture(scope="module")
def shot_b() -> np.ndarray:
    return photo(3)


def test_two_photographs_are_a_cut_and_a_frame_is_not_cut_from_itself(shot_a, shot_b):
    assert is_cut(shot_a, shot_b) and is_cut(shot_b, shot_a)
    assert not is_cut(shot_a, shot_a)


def test_a_pan_damage_and_a_bright_patch_are_not_cuts(shot_a):
    panned = np.roll(shot_a, (3, 5), axis=(0, 1))  # 5 px of 160 reduced to 64: within the shifts tried
    damaged = shot_a.copy()
    damaged[np.random.default_rng(0).random(shot_a.shape[:2]) < 0.3] = 255  # dust on 30 % of the pixels
    patch = shot_a.copy()
    patch[:40, :70] = 0  # something dark walks into a corner
    assert not any(is_cut(shot_a, other) for other in (panned, damaged, patch))


def test_shots_are_the_runs_between_cuts(shot_a, shot_b):
    clip = np.stack([shot_a, shot_a, np.roll(shot_a, 1, axis=1), shot_b, shot_b])
    assert shot_slices(clip) == [slice(0, 3), slice(3, 5)]
    assert shot_slices(clip[:1]) == [slice(0, 1)]
    assert shot_slices(np.stack([shot_a, shot_b, shot_a])) == [slice(0, 1), slice(1, 2), slice(2, 3)]
