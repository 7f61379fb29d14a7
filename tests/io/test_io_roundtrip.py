"""Writing then reading videos: lossless formats are bit-exact, lossy ones keep count and fps."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from media_samples import noise_video, smooth_video

from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, probe, read_video, write_video

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize("name", ["clip.mkv", "clip.avi", "frames"])
@pytest.mark.parametrize("size", [(32, 48), (17, 33)])
def test_lossless_round_trip_is_bit_exact(tmp_path, name, size):
    frames = noise_video(6, *size, seed=sum(size))
    written = write_video(tmp_path / name, frames, NTSC)
    back = read_video(written)
    assert back.dtype == np.uint8 and back.shape == frames.shape
    assert np.array_equal(back, frames)
    info = probe(written)
    assert (info.frames, info.height, info.width, info.fps) == (6, *size, NTSC)


def test_png_folder_holds_numbered_frames_and_fps(tmp_path):
    written = write_video(tmp_path / "frames", noise_video(3, 8, 8), Fraction(25))
    names = sorted(entry.name for entry in written.iterdir())
    assert names == ["fps.txt", "frame_000000.png", "frame_000001.png", "frame_000002.png"]
    assert (written / "fps.txt").read_text().strip() == "25"


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mov", "clip.webm"])
@pytest.mark.parametrize("fps", [NTSC, Fraction(25)])
def test_lossy_formats_keep_frame_count_and_exact_fps(tmp_path, name, fps):
    frames = smooth_video(12, 48, 64)
    written = write_video(tmp_path / name, frames, fps)
    info = probe(written)
    assert (info.frames, info.height, info.width) == (12, 48, 64)
    assert info.fps == fps and isinstance(info.fps, Fraction)
    back = read_video(written)
    assert back.shape == frames.shape
    # Lossy but faithful: the mean error on smooth content stays within a few grey levels.
    assert np.abs(back.astype(np.int16) - frames).mean() < 4.0


def test_crf_changes_quality(tmp_path):
    frames = noise_video(4, 32, 32)
    fine = read_video(write_video(tmp_path / "fine.mp4", frames, 25, crf=0))
    coarse = read_video(write_video(tmp_path / "coarse.mp4", frames, 25, crf=45))
    assert np.abs(fine.astype(int) - frames).mean() < np.abs(coarse.astype(int) - frames).mean()


def test_odd_size_mp4_keeps_its_size_with_full_chroma(tmp_path):
    frames = smooth_video(5, 17, 33)
    info = probe(write_video(tmp_path / "odd.mp4", frames, 25))
    assert (info.frames, info.height, info.width, info.codec) == (5, 17, 33, "h264")


def test_odd_size_mp4_can_be_padded_by_edge_replication(tmp_path):
    frames = smooth_video(5, 17, 33)
    written = write_video(tmp_path / "odd.mp4", frames, 25, odd_size="pad")
    back = read_video(written)
    assert back.shape == (5, 18, 34, 3)
    # The added row and column repeat the last ones (up to compression error).
    assert np.abs(back[:, -1].astype(int) - back[:, -2]).mean() < 3.0


def test_odd_size_mp4_can_be_refused(tmp_path):
    with pytest.raises(SeedVRError, match="even width and height"):
        write_video(tmp_path / "odd.mp4", smooth_video(2, 17, 33), 25, odd_size="error")
    assert list(tmp_path.iterdir()) == []


def test_streaming_writer_takes_chunks_and_single_frames(tmp_path):
    frames = noise_video(7, 16, 24)
    with VideoWriter(tmp_path / "clip.mkv", Fraction(24000, 1001), 24, 16) as writer:
        writer.write(frames[:3])
        writer.write(frames[3])
        writer.write([frames[4], frames[5]])
        writer.write(frames[6:])
        assert not (tmp_path / "clip.mkv").exists()  # only the temporary exists while writing
    assert writer.frames_written == 7
    assert np.array_equal(read_video(tmp_path / "clip.mkv"), frames)
    assert probe(tmp_path / "clip.mkv").fps == Fraction(24000, 1001)


def test_grey_and_rgba_sources_are_read_as_rgb(tmp_path):
    import av

    grey = np.random.default_rng(3).integers(0, 256, (4, 8, 10), dtype=np.uint8)
    path = tmp_path / "grey.mkv"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 10, 8, "gray"
        for index, plane in enumerate(grey):
            frame = av.VideoFrame.from_ndarray(plane, format="gray")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    back = read_video(path)
    assert back.shape == (4, 8, 10, 3)
    assert np.array_equal(back, np.repeat(grey[..., None], 3, axis=-1))

    rgba = np.random.default_rng(4).integers(0, 256, (8, 10, 4), dtype=np.uint8)
    folder = tmp_path / "rgba"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    assert np.array_equal(read_video(folder)[0], rgba[..., :3])  # alpha dropped, colour kept


def test_existing_output_is_replaced_atomically(tmp_path):
    target = tmp_path / "clip.mkv"
    write_video(target, noise_video(2, 8, 8, seed=1), 25)
    second = noise_video(3, 8, 8, seed=2)
    write_video(target, second, 25)
    assert np.array_equal(read_video(target), second)
    assert [entry.name for entry in tmp_path.iterdir()] == ["clip.mkv"]


@pytest.mark.parametrize("name", ["clip.mkv", "clip.mp4", "clip.webm", "clip.avi"])
def test_same_frames_give_the_same_bytes(tmp_path, name, aac_source):
    # Datasets must be byte-reproducible: no random container IDs or version strings.
    frames = noise_video(4, 16, 16)
    first = write_video(tmp_path / f"a_{name}", frames, 25, audio_from=aac_source).read_bytes()
    second = write_video(tmp_path / f"b_{name}", frames, 25, audio_from=aac_source).read_bytes()
    assert first == second
