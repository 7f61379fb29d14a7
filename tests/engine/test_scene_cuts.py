"""Scene cuts: a repair and a detection read each shot alone, whole or streamed."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from seedvr.data.photos import PHOTO_NAMES, load_photo
from seedvr.engine.detect import damage_probabilities, detect_damage, detect_video, load_detector
from seedvr.engine.repair import repair_video
from seedvr.io import read_mask, read_video, write_mask, write_video
from seedvr.ops.shots import shot_slices


def shot(photo_index: int, frames: int) -> np.ndarray:
    """A photograph panning slowly: one shot."""
    picture = cv2.resize(np.array(load_photo(PHOTO_NAMES[photo_index])), (96, 64), interpolation=cv2.INTER_AREA)
    return np.stack([np.roll(picture, step, axis=1) for step in range(frames)])


@pytest.fixture(scope="module")
def two_shots() -> np.ndarray:
    return np.concatenate([shot(0, 4), shot(3, 5)])


def test_the_clip_has_one_cut(two_shots):
    assert shot_slices(two_shots) == [slice(0, 4), slice(4, 9)]


def test_a_repair_across_a_cut_is_each_shot_repaired_alone(two_shots, tmp_path):
    mask = np.zeros(two_shots.shape[:3], bool)
    mask[:, 20:36, 30:60] = True  # a static logo over both shots
    outputs = []
    for name, frames, masks in (
        ("both", two_shots, mask),
        ("first", two_shots[:4], mask[:4]),
        ("second", two_shots[4:], mask[4:]),
    ):
        video = write_video(tmp_path / f"{name}.mkv", frames, Fraction(25))
        mask_file = write_mask(tmp_path / f"{name}.mask.mkv", masks, Fraction(25))
        repair_video(video, mask_file, tmp_path / f"{name}.out.mkv", method="propagate", chunk=16, overlap=2)
        outputs.append(read_video(tmp_path / f"{name}.out.mkv"))
    both, first, second = outputs
    np.testing.assert_array_equal(both, np.concatenate([first, second]))


def test_a_detection_across_a_cut_is_each_shot_detected_alone_and_streams_exactly(two_shots, tmp_path):
    detector = load_detector()
    whole = damage_probabilities(two_shots, detector)
    apart = np.concatenate([damage_probabilities(two_shots[:4], detector), damage_probabilities(two_shots[4:], detector)])
    np.testing.assert_array_equal(whole, apart)
    mask = detect_damage(two_shots, detector)
    video = write_video(tmp_path / "cut.mkv", two_shots, Fraction(25))
    for chunk in (3, 4):
        detect_video(video, tmp_path / f"found{chunk}.mkv", detector, chunk=chunk)
        np.testing.assert_array_equal(read_mask(tmp_path / f"found{chunk}.mkv"), mask)
