"""When a video's frames are shown, and whether the file holds all the video it declares.

A :class:`Timeline` gathers the timestamps of a stream's frames (or packets) as they are
read. At the end of the stream it answers two questions:

* Is the video complete? A container that declares a length (Matroska's duration tag, the
  MP4 index, a single stream's container duration) must hold that much decodable video. A
  file cut short (an interrupted copy or download) still opens and decodes, only shorter:
  without this check it would be repaired into a shorter video as if nothing were missing.
  A container that declares nothing is taken as complete.
* Is the frame rate constant? If not, :meth:`Timeline.frame_times` keeps each frame's
  timestamp so the writer can give the output the very same timing.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av

from seedvr.errors import SeedVRError
from seedvr.io.info import FrameTimes

# Declared lengths are rounded (Matroska to the millisecond, container durations to the
# microsecond): a shortfall this small is rounding, not missing video.
_ROUNDING_SECONDS = Fraction(1, 1000)
# A frame shown within this fraction of a frame period of its constant-rate time counts as
# on time: the rounding of timestamps to a container's clock, not a change of rate.
_CONSTANT_RATE_SLACK = Fraction(1, 100)
_MATROSKA_DURATION = re.compile(r"(\d+):(\d{2}):(\d{2})(?:\.(\d+))?")


class IncompleteVideoError(SeedVRError):
    """A video file that holds less than its container declares: cut short or damaged."""


class Timeline:
    """Timestamps of one stream's frames, fed one frame (or packet) at a time.

    Args:
        time_base: seconds per timestamp tick of the stream.
        keep_pts: keep every timestamp (for :meth:`frame_times`); otherwise only the few
            numbers the completeness check needs are kept, whatever the video's length.
    """

    def __init__(self, time_base: Fraction | None, *, keep_pts: bool = False) -> None:
        self.time_base = time_base
        self.count = 0
        self._pts: list[int] | None = [] if keep_pts else None
        self._timed = time_base is not None  # false once a frame comes without a timestamp
        self._first = self._last = self._before_last = None
        self._end = None  # latest pts + duration, among frames that say their duration

    def add(self, pts: int | None, duration: int | None) -> None:
        """Count one frame shown at ``pts`` for ``duration`` ticks (either may be unknown)."""
        self.count += 1
        if pts is None:
            self._timed = False
            return
        if self._pts is not None:
            self._pts.append(pts)
        self._first = pts if self._first is None else min(self._first, pts)
        # Packets come in decoding order: the last shown frame is the one with the largest pts.
        if self._last is None or pts > self._last:
            self._last, self._before_last = pts, self._last
        elif self._before_last is None or pts > self._before_last:
            self._before_last = pts
        if duration:
            self._end = pts + duration if self._end is None else max(self._end, pts + duration)

    @property
    def timed(self) -> bool:
        """Whether every frame so far had a timestamp (and the stream a time base)."""
        return self._timed and self._first is not None

    def _end_ticks(self, fps: Fraction | None) -> Fraction | None:
        """When the last frame stops showing: its stated end, else one frame period after it.

        ``None`` when nothing tells (one frame, no duration, no frame rate).
        """
        if self._end is not None and self._end > self._last:
            return Fraction(self._end)
        if self._before_last is not None:
            return Fraction(2 * self._last - self._before_last)
        if fps:
            return self._last + 1 / (fps * self.time_base)
        return None

    def decoded_seconds(self, fps: Fraction | None, start: int | None = None) -> Fraction | None:
        """Seconds of video read, from ``start`` (default: the first frame); ``None`` if unknown."""
        end = self._end_ticks(fps) if self.timed else None
        if end is None:
            return None
        return (end - (self._first if start is None else start)) * self.time_base

    def check_complete(self, path: Path, container, stream, fps: Fraction | None) -> None:
        """Raise :class:`IncompleteVideoError` if the stream is shorter than its container says.

        Only a shortfall counts: more video than declared is not missing anything. A
        container that declares no length, or frames without timestamps, pass.
        """
        declared = declared_seconds(container, stream)
        decoded = self.decoded_seconds(fps, stream.start_time)
        if declared is None or decoded is None:
            return
        # Half of the last frame as slack: losing even that one frame falls outside it.
        last_frame = (self._end_ticks(fps) - self._last) * self.time_base
        if decoded + last_frame / 2 + _ROUNDING_SECONDS < declared:
            raise IncompleteVideoError(
                f"{path} is incomplete: its container declares {float(declared):.3f} s of video but only "
                f"{float(decoded):.3f} s ({self.count} frames) could be read; the file is probably cut short"
            )

    def average_rate(self, fps: Fraction) -> Fraction:
        """Frames per second over the whole timeline (``fps`` when it cannot be measured)."""
        seconds = self.decoded_seconds(fps)
        return Fraction(self.count) / seconds if seconds else fps

    def frame_times(self, fps: Fraction) -> FrameTimes | None:
        """Each frame's time when the rate is not a constant ``fps``; ``None`` when it is.

        Timestamps start at 0 (the first frame), in the stream's time base. ``None`` too when
        timestamps are unknown, were not kept or are not all distinct (no order to keep):
        the frames are then taken as evenly spaced.
        """
        if self._pts is None or not self.timed:
            return None
        shown = sorted(self._pts)
        if any(later == earlier for earlier, later in zip(shown, shown[1:])):
            return None
        ticks_per_frame = 1 / (fps * self.time_base)
        slack = max(Fraction(1), ticks_per_frame * _CONSTANT_RATE_SLACK)
        first = shown[0]
        if all(abs(pts - first - index * ticks_per_frame) <= slack for index, pts in enumerate(shown)):
            return None
        return FrameTimes(time_base=self.time_base, pts=tuple(pts - first for pts in shown))


def declared_seconds(container, stream) -> Fraction | None:
    """The video length the container declares for ``stream`` (from its start), or ``None``."""
    if stream.duration and stream.time_base:
        return stream.duration * stream.time_base
    tag = _matroska_duration(stream.metadata.get("DURATION"))
    if tag is not None:
        # Matroska's tag is the stream's end on the file's clock; make it a length.
        start = stream.start_time * stream.time_base if stream.start_time is not None and stream.time_base else 0
        return tag - start
    if len(container.streams) == 1 and container.duration:
        # The container's duration is its longest stream's; with one stream, this one's.
        return Fraction(container.duration, av.time_base)
    return None


def _matroska_duration(text: str | None) -> Fraction | None:
    """``"00:01:02.500000000"`` as seconds."""
    match = _MATROSKA_DURATION.fullmatch(text.strip()) if text else None
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    fraction = fraction or "0"
    return 3600 * int(hours) + 60 * int(minutes) + int(seconds) + Fraction(int(fraction), 10 ** len(fraction))
