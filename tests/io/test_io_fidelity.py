"""What a copy keeps of its source beyond 8-bit RGB frames: each frame's time, finer pixels."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from media_samples import decoded_timestamps_and_rgb48, make_high_depth_video, make_vfr_video

from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, iter_video_chunks, probe, read_video

# Bursts and pauses: no constant rate fits. 0.44 s in all (the last frame lasts 40 ms).
VFR_PTS_MS = [0, 10, 20, 100, 110, 300, 310, 400]


def copy_through_writer(source, output, **options) -> VideoWriter:
    info = probe(source)
    with VideoWriter(output, info.fps, info.width, info.height, **options) as writer:
        for chunk in iter_video_chunks(source, 3):
            writer.write(chunk)
    return writer


@pytest.mark.parametrize("suffix", [".mkv", ".mp4", ".webm"])
def test_variable_frame_rate_keeps_every_frame_time(tmp_path, suffix):
    frames = make_vfr_video(tmp_path / "vfr.mkv", VFR_PTS_MS)
    info = probe(tmp_path / "vfr.mkv")
    assert info.frame_times is not None and info.frame_times.pts == tuple(VFR_PTS_MS)
    output = tmp_path / f"copy{suffix}"
    copy_through_writer(tmp_path / "vfr.mkv", output, timestamps=info.frame_times)
    times, _ = decoded_timestamps_and_rgb48(output)
    assert times == pytest.approx([pts / 1000 for pts in VFR_PTS_MS], abs=1e-6)
    if suffix == ".mkv":
        assert np.array_equal(read_video(output), frames)


@pytest.mark.parametrize("name", ["copy.avi", "copy_frames"])
def test_outputs_without_frame_times_refuse_a_variable_rate(tmp_path, name):
    make_vfr_video(tmp_path / "vfr.mkv", VFR_PTS_MS)
    info = probe(tmp_path / "vfr.mkv")
    with pytest.raises(SeedVRError, match="frame rate varies .* cannot keep each frame's time"):
        VideoWriter(tmp_path / name, info.fps, info.width, info.height, timestamps=info.frame_times)
    assert not (tmp_path / name).exists()


def test_constant_rate_has_no_frame_times(tmp_path):
    make_vfr_video(tmp_path / "cfr.mkv", [40 * index for index in range(6)])
    info = probe(tmp_path / "cfr.mkv")
    assert info.frame_times is None and info.fps == 25


@pytest.mark.parametrize("pixel_format", ["yuv420p10le", "yuv444p"])
@pytest.mark.parametrize("suffix", [".mkv", ""])
def test_lossless_output_keeps_a_high_depth_source_outside_the_repair(tmp_path, pixel_format, suffix):
    source = tmp_path / "deep.mkv"
    make_high_depth_video(source, pixel_format)
    frames = read_video(source)
    repaired = frames.copy()
    repaired[:, 8:16, 8:16] = 7  # the "repair"
    info = probe(source)
    output = tmp_path / f"out{suffix}"
    with VideoWriter(output, info.fps, info.width, info.height, precision_from=source) as writer:
        writer.write(repaired)
    assert writer.precision_note is None
    # 8-bit readings agree everywhere; at 16 bits the source is kept outside the repair.
    assert np.array_equal(read_video(output), repaired)
    if suffix:
        _, source_deep = decoded_timestamps_and_rgb48(source)
        _, output_deep = decoded_timestamps_and_rgb48(output)
        for before, after in zip(source_deep, output_deep):
            outside = np.ones(before.shape[:2], bool)
            outside[8:16, 8:16] = False
            assert np.array_equal(after[outside], before[outside])
            assert np.all(after[8:16, 8:16] == 7 * 257)


def test_eight_bit_output_of_a_high_depth_source_says_what_is_lost(tmp_path, caplog):
    source = tmp_path / "deep.mkv"
    make_high_depth_video(source, "yuv420p10le")
    with caplog.at_level(logging.WARNING, logger="seedvr.io.writer"):
        writer = copy_through_writer(source, tmp_path / "out.mp4", precision_from=source)
    assert "yuv420p10le pixels, finer than 8-bit RGB; .mp4 is written with 8 bits per channel" in writer.precision_note
    assert writer.precision_note in caplog.text
