"""Masks: thresholding, one-image broadcast, size and count checks, lossless writing."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_samples import noise_video

from seedvr.errors import SeedVRError
from seedvr.io import MaskWriter, VideoInfo, iter_mask_chunks, probe, read_mask, write_mask, write_video

INFO = VideoInfo(path=Path("video.mkv"), frames=6, height=12, width=10, fps=Fraction(25))


def random_mask(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((frames, height, width)) < 0.3


@pytest.mark.parametrize("name", ["mask.mkv", "mask.avi", "mask_frames"])
def test_mask_round_trip_is_exact(tmp_path, name):
    mask = random_mask(6, 12, 10)
    written = write_mask(tmp_path / name, mask, 25)
    back = read_mask(written, INFO)
    assert back.dtype == np.bool_ and np.array_equal(back, mask)
    assert probe(written).frames == 6


def test_written_mask_pixels_are_0_and_255(tmp_path):
    written = write_mask(tmp_path / "mask_frames", random_mask(2, 5, 5), 25)
    levels = np.unique(cv2.imread(str(written / "frame_000000.png"), cv2.IMREAD_UNCHANGED))
    assert set(levels.tolist()) <= {0, 255}


def test_one_image_mask_is_repeated_on_every_frame(tmp_path):
    image = np.zeros((12, 10), np.uint8)
    image[2:5, 3:8] = 255
    cv2.imwrite(str(tmp_path / "logo.png"), image)
    mask = read_mask(tmp_path / "logo.png", INFO)
    assert mask.shape == (6, 12, 10)
    assert all(np.array_equal(frame, image == 255) for frame in mask)
    chunks = list(iter_mask_chunks(tmp_path / "logo.png", 4, INFO))
    assert [len(chunk) for chunk in chunks] == [4, 2]
    chunks[0][0, 0, 0] = True  # chunks are independent, writable arrays
    assert not chunks[1][0, 0, 0]
    assert read_mask(tmp_path / "logo.png").shape == (1, 12, 10)


def test_grey_levels_are_thresholded_at_128(tmp_path):
    levels = np.array([[0, 1, 127, 128, 129, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "grey.png"), levels)
    assert read_mask(tmp_path / "grey.png")[0].tolist() == [[False, False, False, True, True, True]]


def test_colour_masks_use_their_brightest_channel(tmp_path):
    # Pure red (luma 76) must still count as damage; dark colours must not.
    bgr = np.zeros((1, 4, 3), np.uint8)
    bgr[0, 0] = (0, 0, 255)  # red
    bgr[0, 1] = (200, 0, 0)  # blue
    bgr[0, 2] = (60, 100, 120)  # dark brown
    cv2.imwrite(str(tmp_path / "colour.png"), bgr)
    assert read_mask(tmp_path / "colour.png")[0].tolist() == [[True, True, False, False]]


def test_transparent_pixels_are_never_damaged(tmp_path):
    bgra = np.full((1, 3, 4), 255, np.uint8)
    bgra[0, 1, 3] = 0  # white but fully transparent
    bgra[0, 2, :3] = 0  # opaque black
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    assert read_mask(tmp_path / "alpha.png")[0].tolist() == [[True, False, False]]


def test_mask_video_in_colour_is_thresholded(tmp_path):
    # A mask saved as an ordinary RGB video (as users do) reads the same as the grey one.
    mask = random_mask(4, 12, 10, seed=5)
    rgb = np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=-1)
    written = write_video(tmp_path / "mask_rgb.mkv", rgb, 25)
    assert np.array_equal(read_mask(written), mask)


def test_mask_size_mismatch_is_one_clear_line(tmp_path):
    written = write_mask(tmp_path / "mask.mkv", random_mask(6, 12, 11), 25)
    with pytest.raises(SeedVRError, match=r"11x12 but the video video.mkv is 10x12") as error:
        read_mask(written, INFO)
    assert "\n" not in str(error.value)
    cv2.imwrite(str(tmp_path / "logo.png"), np.zeros((5, 5), np.uint8))
    with pytest.raises(SeedVRError, match="5x5"):
        read_mask(tmp_path / "logo.png", INFO)


@pytest.mark.parametrize("name", ["huge.png", "huge.jpg", "huge.bmp", "huge.tif", "huge.webp", "frames/000.png"])
def test_image_mask_size_is_checked_from_its_header_before_decoding(tmp_path, monkeypatch, name):
    # A few KB of PNG can hold 4000x3000 pixels: the size must be refused before they are decoded.
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    assert cv2.imwrite(str(path), np.zeros((3000, 4000), np.uint8))

    def no_decoding(data, flags):
        raise AssertionError("the mask was decoded before its size was checked")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(SeedVRError, match=r"is 4000x3000 but the video video.mkv is 10x12"):
        iter_mask_chunks(path.parent if name.startswith("frames/") else path, 2, INFO)


def test_frame_of_another_size_in_a_folder_is_refused_before_decoding(tmp_path, monkeypatch):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), np.zeros((12, 10), np.uint8))
    cv2.imwrite(str(folder / "1.png"), np.zeros((3000, 4000), np.uint8))
    decoded = []
    real_imdecode = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda data, flags: decoded.append(data.size) or real_imdecode(data, flags))
    with pytest.raises(SeedVRError, match=r"1.png is 4000x3000 but the first frame is 10x12"):
        read_mask(folder, dataclasses.replace(INFO, frames=2))
    assert len(decoded) == 1  # the first frame only


def test_mask_frame_count_mismatch_is_refused_before_reading(tmp_path):
    written = write_mask(tmp_path / "mask.mkv", random_mask(5, 12, 10), 25)
    with pytest.raises(SeedVRError, match="has 5 frames but the video video.mkv has 6"):
        iter_mask_chunks(written, 2, INFO)


def test_masks_refuse_lossy_outputs(tmp_path):
    with pytest.raises(SeedVRError, match="losslessly"):
        write_mask(tmp_path / "mask.mp4", random_mask(2, 8, 8), 25)
    assert list(tmp_path.iterdir()) == []


def test_mask_writer_accepts_integer_masks(tmp_path):
    mask = random_mask(3, 8, 8, seed=2)
    with MaskWriter(tmp_path / "mask.mkv", 25, 8, 8) as writer:
        writer.write(mask.astype(np.uint8))
    assert np.array_equal(read_mask(tmp_path / "mask.mkv"), mask)


def test_float_masks_are_refused(tmp_path):
    with pytest.raises(SeedVRError, match="bool or integer"):
        write_mask(tmp_path / "mask.mkv", np.zeros((2, 4, 4), np.float32), 25)
    assert list(tmp_path.iterdir()) == []


def test_video_noise_file_is_not_a_mask_error(tmp_path):
    # Any readable video can serve as a mask; noise just thresholds.
    frames = noise_video(2, 4, 4)
    mask = read_mask(write_video(tmp_path / "noise.mkv", frames, 25))
    assert np.array_equal(mask, frames.max(axis=-1) >= 128)
