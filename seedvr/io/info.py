"""What a video is, before any frame is read: :class:`VideoInfo` and frame-rate parsing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from seedvr.errors import SeedVRError

DEFAULT_FOLDER_FPS = Fraction(24)
"""Frame rate of a folder of frames that has no ``fps.txt`` next to its images."""

# Containers such as Matroska store a frame duration in nanoseconds, and FFmpeg turns it back
# into a fraction with a bounded denominator, so 60000/1001 can come back as 19001/317. Such a
# rate is snapped to the nearest standard one (an integer or an NTSC N*1000/1001) when they
# agree to this relative tolerance, far finer than any real difference between frame rates.
_SNAP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FrameTimes:
    """When each frame of a variable-frame-rate video is shown.

    Attributes:
        time_base: seconds per tick.
        pts: each frame's presentation time in ticks, in display order; the first is 0.
    """

    time_base: Fraction
    pts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.pts)

    def seconds(self, index: int) -> Fraction:
        """When frame ``index`` is shown, in seconds from the first frame."""
        return self.pts[index] * self.time_base


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video on disk (a video file, a folder of frames or a single image).

    Attributes:
        path: where it was read from.
        frames: exact number of frames.
        height, width: frame size in pixels.
        fps: exact frame rate as a fraction (``Fraction(30000, 1001)`` for NTSC 29.97).
        has_audio: whether the file holds an audio stream (always false for folders).
        codec: the video codec name (``"h264"``, ``"ffv1"``...), ``None`` for image frames.
        frame_times: each frame's timestamp when the frame rate varies (then ``fps`` is the
            average rate); ``None`` for a constant rate, each frame ``1 / fps`` after the last.
    """

    path: Path
    frames: int
    height: int
    width: int
    fps: Fraction
    has_audio: bool = False
    codec: str | None = None
    frame_times: FrameTimes | None = field(default=None, repr=False)

    @property
    def duration_seconds(self) -> float:
        """Length of the video: frames divided by the frame rate."""
        return float(self.frames / self.fps)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """The shape of the whole video in memory, ``(T, H, W, 3)``."""
        return (self.frames, self.height, self.width, 3)


def snap_frame_rate(rate: Fraction) -> Fraction:
    """Return the standard rate (integer or N*1000/1001) that ``rate`` approximates, else ``rate``."""
    value = float(rate)
    if value <= 0:
        return rate
    candidates = (Fraction(round(value)), Fraction(round(value * 1.001) * 1000, 1001))
    for candidate in candidates:
        if candidate > 0 and math.isclose(float(candidate), value, rel_tol=_SNAP_TOLERANCE):
            return candidate
    return rate


def parse_fps(value: Fraction | int | float | str) -> Fraction:
    """Turn a frame rate given as ``Fraction``, int, float or text into an exact fraction.

    Text may be ``"30000/1001"``, ``"25"`` or ``"29.97"`` (taken literally as 2997/100). A float
    is matched to a standard rate when it is one (``29.97002997`` becomes 30000/1001), because
    binary floats cannot hold those rates exactly.

    Raises:
        SeedVRError: the value is not a positive, finite number.
    """
    try:
        if isinstance(value, Fraction):
            rate = value
        elif isinstance(value, bool):
            raise TypeError("a boolean is not a frame rate")
        elif isinstance(value, int):
            rate = Fraction(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("not finite")
            rate = snap_frame_rate(Fraction(value).limit_denominator(1_000_000))
        else:
            rate = Fraction(str(value).strip())
    except (TypeError, ValueError, ZeroDivisionError):
        raise SeedVRError(f"frame rate {value!r} is not a number such as 25 or 30000/1001") from None
    if rate <= 0:
        raise SeedVRError(f"frame rate must be positive, got {value!r}")
    return rate
