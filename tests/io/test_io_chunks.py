"""Chunked reading equals whole reading, and decodes lazily."""

from __future__ import annotations

import numpy as np
import pytest
from media_samples import noise_video

from seedvr.errors import SeedVRError
from seedvr.io import iter_video_chunks, probe, read_video, reader, write_video


@pytest.mark.parametrize("name", ["clip.mkv", "frames", "clip.mp4"])
@pytest.mark.parametrize("chunk_frames", [1, 4, 10, 50])
def test_chunks_concatenate_to_the_whole_video(tmp_path, name, chunk_frames):
    path = write_video(tmp_path / name, noise_video(10, 16, 18), 25)
    chunks = list(iter_video_chunks(path, chunk_frames))
    assert [len(chunk) for chunk in chunks[:-1]] == [chunk_frames] * (len(chunks) - 1)
    assert 1 <= len(chunks[-1]) <= chunk_frames
    assert np.array_equal(np.concatenate(chunks), read_video(path))


@pytest.mark.parametrize("name", ["clip.mkv", "frames"])
def test_chunks_are_decoded_lazily(tmp_path, monkeypatch, name):
    # Count the frames turned into arrays: handing out the first chunk of a 40-frame video
    # must not have converted more than that chunk.
    frames = noise_video(40, 16, 16)
    path = write_video(tmp_path / name, frames, 25)
    converted = []
    original_video, original_image = reader.rgb_from_video_frame, reader.read_image_rgb
    monkeypatch.setattr(reader, "rgb_from_video_frame", lambda frame: converted.append(1) or original_video(frame))
    monkeypatch.setattr(reader, "read_image_rgb", lambda file: converted.append(1) or original_image(file))
    chunks = iter_video_chunks(path, 4)
    assert converted == []
    assert np.array_equal(next(chunks), frames[:4])
    assert len(converted) == 4
    assert np.array_equal(np.concatenate([*chunks]), frames[4:])
    assert len(converted) == 40


def test_truncated_file_reads_as_the_frames_it_still_holds(tmp_path):
    frames = noise_video(20, 32, 32)
    path = write_video(tmp_path / "clip.mkv", frames, 25)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    back = read_video(path)
    assert 0 < len(back) < 20 and probe(path).frames == len(back)
    assert np.array_equal(back, frames[: len(back)])


def test_missing_file_fails_before_the_first_chunk_is_asked_for(tmp_path):
    with pytest.raises(SeedVRError, match="does not exist"):
        iter_video_chunks(tmp_path / "missing.mkv", 4)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_chunk_length_must_be_a_positive_integer(tmp_path, bad):
    path = write_video(tmp_path / "clip.mkv", noise_video(2, 8, 8), 25)
    with pytest.raises(SeedVRError, match="chunk_frames"):
        iter_video_chunks(path, bad)
