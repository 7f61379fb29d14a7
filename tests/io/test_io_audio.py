"""Audio of a source video carried into a new video: copied unchanged when possible."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from media_samples import AUDIO_SECONDS, noise_video, smooth_video

from seedvr.io import VideoWriter, probe, read_video, write_video


def audio_stream_facts(path):
    """(codec, duration in seconds, payloads of every packet) of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        payloads = [bytes(packet) for packet in container.demux(stream) if packet.size]
        duration = float(container.duration / av.time_base)
        return stream.codec_context.name, duration, payloads


@pytest.mark.parametrize("output", ["out.mkv", "out.mp4", "out.mov"])
def test_aac_audio_is_copied_packet_for_packet(tmp_path, aac_source, output):
    info = probe(aac_source)
    with VideoWriter(tmp_path / output, info.fps, 64, 48, audio_from=aac_source) as writer:
        writer.write(smooth_video(info.frames, 48, 64))
    assert writer.audio == "copied"
    out_info = probe(tmp_path / output)
    assert out_info.has_audio and out_info.frames == info.frames and out_info.fps == Fraction(30000, 1001)
    source_codec, _, source_packets = audio_stream_facts(aac_source)
    codec, duration, packets = audio_stream_facts(tmp_path / output)
    assert codec == source_codec == "aac"
    assert packets == source_packets  # the bytes themselves, not a re-encode
    assert duration == pytest.approx(AUDIO_SECONDS, abs=0.05)


@pytest.mark.parametrize("output", ["out.mkv", "out.mp4", "out.avi"])
def test_flac_audio_is_copied(tmp_path, flac_source, output):
    write_video(tmp_path / output, smooth_video(25, 48, 64), 25, audio_from=flac_source)
    codec, duration, packets = audio_stream_facts(tmp_path / output)
    assert codec == "flac" and packets == audio_stream_facts(flac_source)[2]
    assert duration == pytest.approx(AUDIO_SECONDS, abs=0.05)
    assert probe(tmp_path / output).frames == 25


@pytest.mark.parametrize(
    ("source", "output", "codec"),
    [("aac_source", "out.webm", "opus"), ("flac_source", "out.mov", "aac"), ("aac_source", "out.avi", "pcm_s16le")],
)
def test_audio_is_reencoded_only_where_the_container_refuses_it(tmp_path, request, source, output, codec):
    # WebM takes only Opus/Vorbis, MOV refuses FLAC, and AVI would pad the video with a blank
    # frame for AAC's priming samples: these fall back to the container's own audio codec.
    source_path = request.getfixturevalue(source)
    info = probe(source_path)
    with VideoWriter(tmp_path / output, info.fps, 64, 48, audio_from=source_path) as writer:
        writer.write(smooth_video(info.frames, 48, 64))
    assert writer.audio == "re-encoded"
    out_codec, duration, _ = audio_stream_facts(tmp_path / output)
    assert out_codec == codec
    assert duration == pytest.approx(AUDIO_SECONDS, abs=0.05)
    assert probe(tmp_path / output).frames == info.frames


def test_reencoded_audio_still_sounds_like_the_source(tmp_path, aac_source):
    write_video(tmp_path / "out.avi", smooth_video(30, 48, 64), Fraction(30000, 1001), audio_from=aac_source)
    with av.open(str(tmp_path / "out.avi")) as container:
        samples = np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])
    left = samples.astype(np.float64)[::2] / 32768
    spectrum = np.abs(np.fft.rfft(left))
    peak_hz = np.argmax(spectrum) * 48_000 / len(left)
    assert peak_hz == pytest.approx(440, abs=5)


def test_source_without_audio_gives_a_silent_output(tmp_path):
    silent = write_video(tmp_path / "silent.mkv", noise_video(3, 8, 8), 25)
    with VideoWriter(tmp_path / "out.mp4", 25, 8, 8, audio_from=silent) as writer:
        writer.write(smooth_video(3, 8, 8))
    assert writer.audio is None and not probe(tmp_path / "out.mp4").has_audio


def test_png_folder_output_drops_audio_with_a_warning(tmp_path, aac_source, caplog):
    with caplog.at_level("WARNING"):
        written = write_video(tmp_path / "frames", smooth_video(4, 48, 64), 25, audio_from=aac_source)
    assert "cannot hold audio" in caplog.text
    assert len(read_video(written)) == 4
