"""Label masks (0/1 arrays saved as images, object ids): nothing at 128 or above, so every
non-zero pixel is damaged; the rule is the whole mask's, never one frame's."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.io import VideoInfo, iter_mask_chunks, read_mask, write_video
from seedvr.io.threshold import LABEL_THRESHOLD, MASK_THRESHOLD, MaskRule, mask_rule

INFO = VideoInfo(path=Path("video.mkv"), frames=3, height=6, width=8, fps=Fraction(25))


def labels() -> np.ndarray:
    ids = np.zeros((3, 6, 8), np.uint8)
    ids[0, 1:3, 2:5] = 1
    ids[1, 4, 6] = 2  # a second object id
    return ids  # frame 2 marks nothing


def as_rgb(levels: np.ndarray) -> np.ndarray:
    return np.repeat(levels[..., None], 3, axis=-1)


def test_a_0_1_image_is_damaged_where_it_is_1(tmp_path, caplog):
    image = labels()[0]
    cv2.imwrite(str(tmp_path / "labels.png"), image)
    with caplog.at_level(logging.WARNING, logger="seedvr.io.masks"):
        mask = read_mask(tmp_path / "labels.png", INFO)
    assert np.array_equal(mask, np.repeat((image > 0)[None], 3, axis=0))
    assert "read as a label mask" in caplog.text


def test_a_label_video_and_frame_folder_are_damaged_where_non_zero(tmp_path):
    ids = labels()
    folder = tmp_path / "ids"
    folder.mkdir()
    for index, frame in enumerate(ids):
        cv2.imwrite(str(folder / f"{index:03d}.png"), frame)
    video = write_video(tmp_path / "ids.mkv", as_rgb(ids), 25)
    for source in (folder, video):
        assert np.array_equal(read_mask(source, INFO), ids > 0), source
        chunks = list(iter_mask_chunks(source, 2, INFO))
        assert np.array_equal(np.concatenate(chunks), ids > 0), source


def test_faint_levels_stay_intact_when_the_mask_has_white_anywhere(tmp_path):
    # Compression noise in a frame without damage: the white-on-black rule holds for the
    # whole mask, so no frame is read as labels.
    levels = np.zeros((3, 6, 8), np.uint8)
    levels[0, :2, :2] = 3
    levels[2, 3:5, 3:5] = 255
    levels[2, 0, 0] = 40
    video = write_video(tmp_path / "noisy.mkv", as_rgb(levels), 25)
    assert np.array_equal(read_mask(video, INFO), levels >= 128)


def test_an_empty_mask_marks_nothing_and_is_not_called_labels(tmp_path, caplog):
    cv2.imwrite(str(tmp_path / "empty.png"), np.zeros((6, 8), np.uint8))
    with caplog.at_level(logging.WARNING, logger="seedvr.io.masks"):
        assert not read_mask(tmp_path / "empty.png", INFO).any()
    assert "label" not in caplog.text
    with pytest.raises(SeedVRError, match="marks no pixel as damaged"):
        iter_mask_chunks(tmp_path / "empty.png", 2, INFO, require_damage=True)
    video = write_video(tmp_path / "empty.mkv", np.zeros((3, 6, 8, 3), np.uint8), 25)
    with pytest.raises(SeedVRError, match="marks no pixel as damaged"):
        iter_mask_chunks(video, 2, INFO, require_damage=True)


def test_transparent_labels_stay_intact(tmp_path):
    bgra = np.zeros((6, 8, 4), np.uint8)
    bgra[1, 1] = (1, 1, 1, 255)
    bgra[2, 2] = (1, 1, 1, 0)  # marked, but transparent
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    mask = read_mask(tmp_path / "alpha.png")[0]
    assert mask[1, 1] and mask.sum() == 1


def test_the_rule_stops_reading_at_the_first_white_frame():
    read = []

    def frames():
        for index, peak in enumerate([0, 5, 200, 0]):
            read.append(index)
            yield np.full((2, 2), peak, np.uint8)

    assert mask_rule(frames()) == MaskRule(MASK_THRESHOLD, marks_damage=True)
    assert read == [0, 1, 2]
    assert mask_rule(iter([np.full((2, 2), 7, np.uint8)])) == MaskRule(LABEL_THRESHOLD, marks_damage=True)
    assert mask_rule(iter([np.zeros((2, 2), np.uint8)])) == MaskRule(MASK_THRESHOLD, marks_damage=False)
