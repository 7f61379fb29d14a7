"""``repair_video`` keeps what a source has beyond 8-bit RGB, and refuses a truncated source."""

from __future__ import annotations

import cv2
import numpy as np
from media_samples import decoded_timestamps_and_rgb48, make_high_depth_video, make_vfr_video, noise_video
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.engine.repair import repair_video
from seedvr.io import write_video


def square_mask(path, size: int = 32):
    image = np.zeros((size, size), np.uint8)
    image[8:16, 8:16] = 255
    cv2.imwrite(str(path), image)
    return path


def test_truncated_source_is_one_line_exit_2_and_no_output(tmp_path):
    video = write_video(tmp_path / "clip.mkv", noise_video(8, 32, 32), 25)
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    output = tmp_path / "out.mkv"
    result = CliRunner().invoke(app, ["repair", str(video), "--mask", str(square_mask(tmp_path / "m.png")), "-o", str(output)])
    assert result.exit_code == 2
    assert "clip.mkv is incomplete" in result.output and not output.exists()


def test_variable_frame_rate_source_keeps_its_frame_times(tmp_path):
    pts_ms = [0, 10, 20, 100, 110, 300, 310, 400]
    make_vfr_video(tmp_path / "vfr.mkv", pts_ms)
    repair_video(tmp_path / "vfr.mkv", square_mask(tmp_path / "m.png"), tmp_path / "out.mkv", method="telea", chunk=3, overlap=1)
    times, _ = decoded_timestamps_and_rgb48(tmp_path / "out.mkv")
    assert times == [pts / 1000 for pts in pts_ms]


def test_ten_bit_source_keeps_its_pixels_outside_the_mask_or_says_what_is_lost(tmp_path):
    make_high_depth_video(tmp_path / "deep.mkv", "yuv420p10le")
    mask = square_mask(tmp_path / "m.png")
    report = repair_video(tmp_path / "deep.mkv", mask, tmp_path / "out.mkv", method="telea", chunk=2, overlap=1)
    assert "precision" not in report.details
    _, source = decoded_timestamps_and_rgb48(tmp_path / "deep.mkv")
    _, repaired = decoded_timestamps_and_rgb48(tmp_path / "out.mkv")
    outside = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE) < 128
    for before, after in zip(source, repaired):
        np.testing.assert_array_equal(after[outside], before[outside])
    report = repair_video(tmp_path / "deep.mkv", mask, tmp_path / "out.mp4", method="telea", chunk=2, overlap=1)
    assert "8 bits per channel" in report.details["precision"]
