"""Opening video files with PyAV and decoding their frames, with FFmpeg errors made readable.

Everything that touches an input container goes through here so that an unreadable file, a
file with no video stream or a corrupt frame is always one :class:`SeedVRError` sentence.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.video.stream

from seedvr.errors import SeedVRError
from seedvr.io.info import snap_frame_rate
from seedvr.io.timeline import Timeline

# Codecs in which every non-empty packet decodes to exactly one frame, so counting packets
# (cheap: no decoding) gives the exact frame count. FFmpeg flags most intra-only codecs, but
# not the lossless ones below, whose packets are one frame each all the same.
_ONE_FRAME_PER_PACKET = frozenset({"ffv1", "ffvhuff", "huffyuv", "utvideo", "magicyuv", "rawvideo", "png", "qtrle"})

# Containers whose index gives a frame count (``nb_frames``) from the sample table.
_INDEXED_CONTAINERS = ("mov", "mp4")


def ffmpeg_reason(error: Exception) -> str:
    """The short reason of an FFmpeg/OS error (``Invalid data found when processing input``)."""
    reason = getattr(error, "strerror", None) or str(error)
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@contextlib.contextmanager
def open_video(path: Path) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """Open ``path`` and yield ``(container, first video stream)``; always closes the file.

    Raises:
        SeedVRError: the file cannot be read as a video or has no video stream.
    """
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except EOFError:
        # FFmpeg reaches the end while looking for the first frames: a video with no frame.
        raise SeedVRError(f"{path} has no frames (the file ends before any frame)") from None
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise SeedVRError(f"{path} is not a readable video ({ffmpeg_reason(error)})") from None
    try:
        if not container.streams.video:
            raise SeedVRError(f"{path} has no video stream")
        stream = container.streams.video[0]
        # Frame threading decodes several frames at once; it changes nothing in the output.
        stream.thread_type = "AUTO"
        yield container, stream
    finally:
        container.close()


def check_readable_video(path: Path) -> None:
    """Open and close ``path`` so a file that is not a video fails now, not at first use."""
    with open_video(path):
        return


def frame_rate(stream: av.video.stream.VideoStream, path: Path) -> Fraction:
    """Exact frame rate of a stream (see :func:`seedvr.io.info.snap_frame_rate`)."""
    rate = _declared_rate(stream)
    if rate is None:
        raise SeedVRError(f"{path} does not say its frame rate")
    return rate


def _declared_rate(stream: av.video.stream.VideoStream) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return snap_frame_rate(Fraction(rate.numerator, rate.denominator))
    return None


def _packet_timeline(container: av.container.InputContainer, stream, path: Path) -> Timeline:
    timeline = Timeline(stream.time_base, keep_pts=True)
    try:
        for packet in container.demux(stream):
            # The last packet of a demux is an empty flush packet; discard-flagged packets are
            # frames an edit list cuts out, which the decoder drops too.
            if packet.size > 0 and not packet.is_discard:
                timeline.add(packet.pts, packet.duration)
    except av.FFmpegError as error:
        raise SeedVRError(f"{path} is corrupt ({ffmpeg_reason(error)})") from None
    return timeline


def scan_frames(path: Path) -> Timeline:
    """The timeline of every frame of the first video stream of ``path``: count and timestamps.

    The stream's packets are read without decoding when they map one to one to frames: for
    codecs with one frame per packet (FFV1, PNG, MJPEG...), and for MP4/MOV when the packet
    count matches the index. Otherwise every frame is decoded, the only exact way for
    inter-frame codecs in containers without an index.

    Raises:
        IncompleteVideoError: the file holds less video than its container declares.
    """
    with open_video(path) as (container, stream):
        codec = stream.codec_context.codec
        one_per_packet = codec.intra_only or codec.name in _ONE_FRAME_PER_PACKET
        indexed = stream.frames > 0 and any(name in container.format.name for name in _INDEXED_CONTAINERS)
        if one_per_packet or indexed:
            timeline = _packet_timeline(container, stream, path)
            if one_per_packet or timeline.count == stream.frames:
                timeline.check_complete(path, container, stream, _declared_rate(stream))
                return timeline
    with open_video(path) as (container, stream):
        timeline = Timeline(stream.time_base, keep_pts=True)
        collections.deque(decode_frames(container, stream, path, timeline), maxlen=0)  # decode, keep nothing
        return timeline


def decode_frames(
    container: av.container.InputContainer, stream, path: Path, timeline: Timeline | None = None
) -> Iterator[av.VideoFrame]:
    """Decoded frames of ``stream`` in order, lazily; a decoding failure is a SeedVRError.

    Each frame goes into ``timeline`` (a fresh one by default). When the stream ends, and
    before the generator does, the file is checked to hold all the video its container
    declares: a consumer that writes what it reads fails before it can commit its output.

    Raises:
        SeedVRError: a frame cannot be decoded.
        IncompleteVideoError: the stream ended before the length its container declares.
    """
    timeline = Timeline(stream.time_base) if timeline is None else timeline
    iterator = container.decode(stream)
    while True:
        try:
            frame = next(iterator)
        except StopIteration:
            break
        except av.FFmpegError as error:
            raise SeedVRError(f"{path}: frame {timeline.count} could not be decoded ({ffmpeg_reason(error)})") from None
        timeline.add(frame.pts, frame.duration)
        yield frame
    timeline.check_complete(path, container, stream, _declared_rate(stream))
