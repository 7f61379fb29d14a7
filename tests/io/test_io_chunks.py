"""Chunked reading equals whole reading, and decodes lazily."""

from __future__ import annotations

import numpy as np
import pytest
from media_samples import noise_video

from seedvr.errors import SeedVRError
from seedvr.io import IncompleteVideoError, VideoWriter, iter_video_chunks, probe, read_video, reader, write_video


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


def test_truncated_video_is_refused_and_nothing_copied_from_it_is_committed(tmp_path):
    # A Matroska file cut in half still opens and decodes its first frames; its duration tag
    # says how much is missing. Probing refuses it, and so does reading, at the end of the
    # stream: a writer fed chunk by chunk never commits the shorter copy.
    path = write_video(tmp_path / "clip.mkv", noise_video(8, 32, 32), 25)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IncompleteVideoError, match=r"clip.mkv is incomplete: .* declares 0.320 s"):
        probe(path)
    with pytest.raises(IncompleteVideoError, match="cut short"):
        read_video(path)
    copy = tmp_path / "copy.mkv"
    chunks = iter_video_chunks(path, 2)
    with pytest.raises(IncompleteVideoError), VideoWriter(copy, 25, 32, 32) as writer:
        for chunk in chunks:
            writer.write(chunk)
    assert writer.frames_written > 0 and not copy.exists()


def test_missing_file_fails_before_the_first_chunk_is_asked_for(tmp_path):
    with pytest.raises(SeedVRError, match="does not exist"):
        iter_video_chunks(tmp_path / "missing.mkv", 4)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_chunk_length_must_be_a_positive_integer(tmp_path, bad):
    path = write_video(tmp_path / "clip.mkv", noise_video(2, 8, 8), 25)
    with pytest.raises(SeedVRError, match="chunk_frames"):
        iter_video_chunks(path, bad)
