"""Bad inputs: one-line SeedVRError, and nothing left on disk."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from media_samples import noise_video

from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, iter_video_chunks, probe, read_mask, read_video, write_video

READERS = {
    "probe": probe,
    "read_video": read_video,
    "iter_video_chunks": lambda path: next(iter_video_chunks(path, 4)),
    "read_mask": read_mask,
}


def _zero_frame_video(path):
    # A video stream with no frame at all, next to an audio stream that has some.
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 16, 16, "bgr0"
        audio = container.add_stream("flac", rate=8000)
        audio.layout = "mono"
        container.start_encoding()
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


BAD_INPUTS = {
    "missing file": (lambda folder: folder / "missing.mp4", "does not exist"),
    "text file named .mp4": (lambda folder: _write(folder / "notes.mp4", b"this is text\n"), "not a readable video"),
    "empty file": (lambda folder: _write(folder / "empty.mkv", b""), "not a readable video"),
    "empty folder": (lambda folder: _mkdir(folder / "empty"), "holds no PNG/JPG frames"),
    "unsupported extension": (lambda folder: _write(folder / "clip.xyz", b"x"), "unsupported input extension"),
    "zero-frame video": (lambda folder: _call(_zero_frame_video, folder / "zero.mkv"), "no frames"),
}


def _write(path, data):
    path.write_bytes(data)
    return path


def _mkdir(path):
    path.mkdir()
    return path


def _call(function, path):
    function(path)
    return path


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_raise_one_line_errors(tmp_path, reader, case):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(SeedVRError, match=message) as error:
        READERS[reader](path)
    assert "\n" not in str(error.value)


def test_frame_folder_with_mixed_sizes_is_refused(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(folder / "1.png"), np.zeros((9, 8, 3), np.uint8))
    with pytest.raises(SeedVRError, match="1.png is 8x9 but the first frame is 8x8"):
        read_video(folder)


def test_unreadable_image_in_folder_is_named(tmp_path):
    written = write_video(tmp_path / "frames", noise_video(2, 4, 4), 25)
    (written / "frame_000001.png").write_bytes(b"broken")
    with pytest.raises(SeedVRError, match="frame_000001.png is not a readable image"):
        read_video(written)


BAD_WRITES = {
    "missing output folder": (lambda folder: folder / "nowhere" / "out.mkv", noise_video(2, 8, 8), "does not exist"),
    "unsupported extension": (lambda folder: folder / "out.xyz", noise_video(2, 8, 8), "unsupported output extension"),
    "float frames": (lambda folder: folder / "out.mkv", noise_video(2, 8, 8).astype(np.float32), "uint8"),
    "int64 frames": (lambda folder: folder / "out.mp4", noise_video(2, 8, 8).astype(np.int64), "uint8"),
    "mixed sizes": (
        lambda folder: folder / "out.mkv",
        [np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)],
        "all frames must have one size",
    ),
    "mixed sizes to a folder": (
        lambda folder: folder / "frames",
        [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 6, 3), np.uint8)],
        "all frames must have one size",
    ),
    "no frames": (lambda folder: folder / "out.mkv", np.zeros((0, 8, 8, 3), np.uint8), "0 frames"),
    "grey frames": (lambda folder: folder / "out.mkv", np.zeros((2, 8, 8), np.uint8), "dimensions"),
}


@pytest.mark.parametrize("case", sorted(BAD_WRITES))
def test_bad_writes_raise_and_leave_nothing(tmp_path, case):
    make, frames, message = BAD_WRITES[case]
    with pytest.raises(SeedVRError, match=message):
        write_video(make(tmp_path), frames, 25)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [dict(crf=99), dict(crf=-1), dict(odd_size="stretch")])
def test_bad_writer_options_are_refused(tmp_path, kwargs):
    with pytest.raises(SeedVRError):
        VideoWriter(tmp_path / "out.mp4", 25, 8, 8, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("fps", "width", "height"), [(0, 8, 8), ("x", 8, 8), (25, 0, 8), (25, 8, -2), (25, 8.0, 8)])
def test_bad_writer_geometry_is_refused(tmp_path, fps, width, height):
    with pytest.raises(SeedVRError):
        VideoWriter(tmp_path / "out.mkv", fps, width, height)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.mkv", "out.mp4", "frames"])
@pytest.mark.parametrize("interruption", [RuntimeError("boom"), KeyboardInterrupt()])
def test_writer_interrupted_midway_leaves_nothing(tmp_path, name, interruption):
    with pytest.raises(type(interruption)):
        with VideoWriter(tmp_path / name, Fraction(25), 8, 8) as writer:
            writer.write(noise_video(3, 8, 8))
            raise interruption
    assert list(tmp_path.iterdir()) == []


def test_interrupted_writer_keeps_the_previous_output(tmp_path):
    target = write_video(tmp_path / "out.mkv", noise_video(2, 8, 8, seed=1), 25)
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(target, 25, 8, 8) as writer:
            writer.write(noise_video(2, 8, 8, seed=2))
            raise KeyboardInterrupt
    assert target.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["out.mkv"]


def test_writer_with_no_frames_leaves_nothing(tmp_path):
    with pytest.raises(SeedVRError, match="no frames were written"):
        with VideoWriter(tmp_path / "out.mkv", 25, 8, 8):
            pass
    assert list(tmp_path.iterdir()) == []


def test_bad_chunk_does_not_poison_the_writer(tmp_path):
    # A caller that catches the error can go on writing good frames.
    with VideoWriter(tmp_path / "out.mkv", 25, 8, 8) as writer:
        with pytest.raises(SeedVRError):
            writer.write(np.zeros((1, 8, 9, 3), np.uint8))
        writer.write(noise_video(2, 8, 8))
    assert len(read_video(tmp_path / "out.mkv")) == 2


def test_output_may_not_replace_its_own_audio_source(tmp_path, aac_source):
    with pytest.raises(SeedVRError, match="its own audio source"):
        VideoWriter(aac_source, 25, 64, 48, audio_from=aac_source)


def test_missing_audio_source_is_refused(tmp_path):
    with pytest.raises(SeedVRError, match="audio source"):
        VideoWriter(tmp_path / "out.mkv", 25, 8, 8, audio_from=tmp_path / "nothing.mp4")
    assert list(tmp_path.iterdir()) == []


def test_folder_holding_other_files_is_not_replaced(tmp_path):
    precious = tmp_path / "holiday"
    precious.mkdir()
    (precious / "photo.jpg").write_bytes(b"memories")
    with pytest.raises(SeedVRError, match="already holds other files"):
        write_video(precious, noise_video(2, 8, 8), 25)
    assert (precious / "photo.jpg").read_bytes() == b"memories"


def test_previous_frame_folder_is_replaced_whole(tmp_path):
    folder = write_video(tmp_path / "frames", noise_video(5, 8, 8), 25)
    second = noise_video(2, 8, 8, seed=9)
    write_video(folder, second, 30)
    assert np.array_equal(read_video(folder), second)
    assert probe(folder).fps == 30
    assert [entry.name for entry in tmp_path.iterdir()] == ["frames"]
