"""Carrying the audio of a source video into a new video, in step with its frames.

Policy: the source's first audio stream is **copied packet by packet** (no re-encoding, so
the sound is bit-identical) whenever the output container accepts its codec: Matroska takes
any codec, MP4/MOV take AAC, MP3, Opus, FLAC (MOV not FLAC), ... WebM takes only Opus and
Vorbis, AVI takes what FFmpeg allows provided the audio does not start before the video.
Only when the container refuses the codec is the audio decoded and **re-encoded** (AAC for
MP4/MOV, Opus for WebM, 16-bit PCM for AVI). FFmpeg itself is the judge: the writer first
tries a copy and falls back to re-encoding if the container header cannot be written.

Timestamps are shifted so that the source's video start maps to the output's time zero, which
keeps sound and picture in sync when the source does not start at zero (MPEG-TS, cut files).
Audio packets are muxed as the video advances, so memory stays flat for long videos.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.decode import ffmpeg_reason
from seedvr.io.formats import OutputFormat

# Audio is muxed this far ahead of the last written video frame, so the muxer's interleaving
# queue always has packets of both streams to order and never has to hold many.
_AUDIO_LEAD_SECONDS = 0.5


def has_audio_stream(path: Path) -> bool:
    """Whether ``path`` is a readable media file with at least one audio stream."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise SeedVRError(f"audio source {path} is not a readable media file ({ffmpeg_reason(error)})") from None


def _source_start(container: av.container.InputContainer, audio_stream) -> Fraction:
    """Time (seconds) in the source that becomes zero in the output: its video's start."""
    for stream in (*container.streams.video[:1], audio_stream):
        if stream.start_time is not None and stream.time_base is not None:
            return stream.start_time * stream.time_base
    return Fraction(0)


class AudioPassthrough:
    """Feeds the first audio stream of ``source`` into ``output``, copied or re-encoded.

    Create it after the video stream and before ``output.start_encoding()``; then call
    :meth:`mux_until` after each video frame, :meth:`finish` before closing the output, and
    :meth:`close` in every case.
    """

    def __init__(self, source: Path, output: av.container.OutputContainer, fmt: OutputFormat, *, copy: bool) -> None:
        self.source = source
        self._output = output
        try:
            self._input = av.open(str(source), metadata_errors="ignore")
        except (av.FFmpegError, OSError, ValueError) as error:
            raise SeedVRError(f"audio source {source} is not a readable media file ({ffmpeg_reason(error)})") from None
        try:
            self._in_stream = self._input.streams.audio[0]
            self._start = _source_start(self._input, self._in_stream)
            self.copied = copy and self._copy_allowed(fmt)
            if self.copied:
                self._out_stream = output.add_stream_from_template(self._in_stream)
                self._packets = self._copied_packets()
            else:
                self._out_stream = self._add_encoder(fmt.audio_reencode_codec)
                self._packets = self._reencoded_packets()
        except BaseException:
            self._input.close()
            raise
        self._pending: tuple[av.Packet, float] | None = None

    # -- choosing copy or re-encode -------------------------------------------------------

    def _copy_allowed(self, fmt: OutputFormat) -> bool:
        codec = self._in_stream.codec_context.name
        allowed = fmt.audio_copy_codecs if fmt.audio_copy_codecs is not None else self._output.supported_codecs
        if codec not in allowed:
            return False
        if fmt.extension == ".avi" and self._starts_before_video():
            # AVI counts video time in frames: it would insert a blank frame to make room for
            # audio that starts earlier (AAC priming), changing the video's timing.
            return False
        return True

    def _starts_before_video(self) -> bool:
        # A separate reader, so the one that feeds the output stays at the file's start.
        with av.open(str(self.source), metadata_errors="ignore") as probe:
            stream = probe.streams.audio[0]
            for packet in probe.demux(stream):
                timestamp = packet.pts if packet.pts is not None else packet.dts
                if timestamp is not None:
                    return timestamp * packet.time_base < self._start
        return False

    def _add_encoder(self, codec_name: str):
        source = self._in_stream.codec_context
        codec = av.codec.Codec(codec_name, "w")
        rates = codec.audio_rates
        rate = source.sample_rate if not rates or source.sample_rate in rates else max(rates)
        layout = source.layout.name if source.layout.nb_channels <= 2 or codec_name != "libopus" else "stereo"
        stream = self._output.add_stream(codec_name, rate=rate)
        stream.layout = layout
        return stream

    # -- packet sources ---------------------------------------------------------------------

    def _copied_packets(self) -> Iterator[tuple[av.Packet, float]]:
        in_time_base = self._in_stream.time_base
        shift = round(self._start / in_time_base)
        for packet in self._demux():
            if packet.pts is not None:
                packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            timestamp = packet.pts if packet.pts is not None else packet.dts
            seconds = float(timestamp * in_time_base) if timestamp is not None else None
            packet.stream = self._out_stream
            yield packet, seconds

    def _demux(self) -> Iterator[av.Packet]:
        iterator = self._input.demux(self._in_stream)
        while True:
            try:
                packet = next(iterator)
            except StopIteration:
                return
            except av.FFmpegError as error:
                raise SeedVRError(f"audio of {self.source} could not be read ({ffmpeg_reason(error)})") from None
            if packet.size > 0:
                yield packet

    def _reencoded_packets(self) -> Iterator[tuple[av.Packet, float]]:
        samples_written = 0
        for packet in self._demux():
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                raise SeedVRError(f"audio of {self.source} could not be decoded ({ffmpeg_reason(error)})") from None
            for frame in frames:
                frame = self._trim_before_start(frame)
                if frame is None:
                    continue
                # Continuous sample-count timestamps: the encoder's own clock, starting at 0.
                frame.pts = samples_written
                frame.time_base = Fraction(1, frame.sample_rate)
                samples_written += frame.samples
                yield from self._encode(frame)
        yield from self._encode(None)

    def _trim_before_start(self, frame: av.AudioFrame) -> av.AudioFrame | None:
        """Drop the samples that play before the output's time zero (priming, earlier audio)."""
        if frame.pts is None or frame.time_base is None:
            return frame
        lead = (self._start - frame.pts * frame.time_base) * frame.sample_rate
        skip = int(round(lead))
        if skip <= 0:
            return frame
        if skip >= frame.samples:
            return None
        samples = frame.to_ndarray()
        channels = frame.layout.nb_channels
        kept = samples[:, skip:] if frame.format.is_planar else samples[:, skip * channels :]
        trimmed = av.AudioFrame.from_ndarray(np.ascontiguousarray(kept), format=frame.format.name, layout=frame.layout.name)
        trimmed.sample_rate = frame.sample_rate
        return trimmed

    def _encode(self, frame: av.AudioFrame | None) -> Iterator[tuple[av.Packet, float]]:
        for packet in self._out_stream.encode(frame):
            seconds = float(packet.pts * packet.time_base) if packet.pts is not None else None
            yield packet, seconds

    # -- muxing -------------------------------------------------------------------------------

    def mux_until(self, video_seconds: float) -> None:
        """Mux the audio packets that play up to a little after ``video_seconds``."""
        horizon = video_seconds + _AUDIO_LEAD_SECONDS
        while True:
            if self._pending is None:
                self._pending = next(self._packets, None)
                if self._pending is None:
                    return
            packet, seconds = self._pending
            if seconds is not None and seconds > horizon:
                return
            self._output.mux(packet)
            self._pending = None

    def finish(self) -> None:
        """Mux every remaining audio packet (the audio is kept whole, even past the video)."""
        self.mux_until(float("inf"))

    def close(self) -> None:
        self._input.close()
