"""probe: exact frame counts and rational frame rates, for files, folders and single images."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from media_samples import noise_video, smooth_video

from seedvr.errors import SeedVRError
from seedvr.io import VideoInfo, parse_fps, probe, read_video, write_video


@pytest.mark.parametrize(
    "fps", [Fraction(30000, 1001), Fraction(60000, 1001), Fraction(24000, 1001), Fraction(25), Fraction(15, 2)]
)
def test_matroska_gives_back_the_exact_rational_rate(tmp_path, fps):
    # Matroska stores nanosecond frame durations; 60000/1001 comes back from FFmpeg as
    # 19001/317 unless it is snapped to the standard rate.
    info = probe(write_video(tmp_path / "clip.mkv", noise_video(3, 8, 8), fps))
    assert info.fps == fps


def test_probe_reports_audio_codec_and_size(aac_source):
    info = probe(aac_source)
    assert info == VideoInfo(
        path=aac_source, frames=30, height=48, width=64, fps=Fraction(30000, 1001), has_audio=True, codec="h264"
    )
    assert info.duration_seconds == pytest.approx(30 * 1001 / 30000)


def test_frame_count_matches_decoded_frames_for_inter_codecs(tmp_path):
    # VP9 in WebM has no frame index: the count must come from decoding.
    path = write_video(tmp_path / "clip.webm", smooth_video(11, 32, 32), 25)
    assert probe(path).frames == 11 == len(read_video(path))


def test_folder_frames_sort_numerically_and_read_fps_sidecar(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    frames = noise_video(12, 6, 5)
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"img{index}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("ignored")
    info = probe(folder)
    assert (info.frames, info.height, info.width, info.fps, info.codec) == (12, 6, 5, Fraction(24), None)
    # img10 and img11 come after img9, not after img1.
    assert np.array_equal(read_video(folder), frames)
    (folder / "fps.txt").write_text("30000/1001\n")
    assert probe(folder).fps == Fraction(30000, 1001)


def test_jpg_folder_is_read(tmp_path):
    folder = tmp_path / "jpgs"
    folder.mkdir()
    for index, frame in enumerate(smooth_video(3, 16, 16)):
        cv2.imwrite(str(folder / f"{index:04d}.jpg"), frame)
    assert read_video(folder).shape == (3, 16, 16, 3)


def test_bad_fps_sidecar_is_a_clear_error(tmp_path):
    written = write_video(tmp_path / "frames", noise_video(2, 4, 4), 25)
    (written / "fps.txt").write_text("fast")
    with pytest.raises(SeedVRError, match="fps.txt"):
        probe(written)


def test_single_image_is_one_frame(tmp_path):
    image = noise_video(1, 9, 7)[0]
    cv2.imwrite(str(tmp_path / "still.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert probe(tmp_path / "still.png").frames == 1
    assert np.array_equal(read_video(tmp_path / "still.png")[0], image)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30000/1001", Fraction(30000, 1001)),
        ("25", Fraction(25)),
        ("29.97", Fraction(2997, 100)),
        (30000 / 1001, Fraction(30000, 1001)),
        (24, Fraction(24)),
    ],
)
def test_parse_fps(text, expected):
    assert parse_fps(text) == expected


@pytest.mark.parametrize("bad", ["0", "-25", "abc", "1/0", float("nan"), True])
def test_parse_fps_rejects_nonsense(bad):
    with pytest.raises(SeedVRError):
        parse_fps(bad)
