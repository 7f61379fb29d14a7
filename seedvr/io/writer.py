"""Writing videos and masks: streaming writers and one-call helpers, always all-or-nothing.

The output format follows the path (see :mod:`seedvr.io.formats`): ``.mkv``/``.avi`` FFV1
lossless, ``.mp4``/``.mov`` H.264, ``.webm`` VP9, and a path with no suffix (or an existing
folder) a folder of PNG frames. Frames go to a temporary name next to the target and are
renamed into place only when the writer closes without error; on any exception, Ctrl-C
included, the temporary is deleted and nothing appears at the target.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from seedvr.config import REPAIR_DEFAULTS
from seedvr.errors import SeedVRError
from seedvr.io.atomic import PendingOutput
from seedvr.io.audio import AudioPassthrough, has_audio_stream
from seedvr.io.decode import ffmpeg_reason
from seedvr.io.formats import (
    FRAME_NAME_PATTERN,
    ODD_SIZE_POLICIES,
    OutputFormat,
    check_replaceable_frame_folder,
    input_kind,
    output_format_for,
)
from seedvr.io.frames import write_folder_fps, write_png
from seedvr.io.info import FrameTimes, parse_fps
from seedvr.io.precision import PrecisionSource, is_high_precision, source_pixel_format

logger = logging.getLogger(__name__)

# FFmpeg colour codes for BT.601 (SMPTE 170M) in limited ("MPEG") range.
_AVCOL_SPC_SMPTE170M = 6
_AVCOL_PRI_SMPTE170M = 6
_AVCOL_TRC_SMPTE170M = 6
_AVCOL_RANGE_MPEG = 1


def _encoding_layout(fmt: OutputFormat, width: int, height: int, mask: bool, odd_size: str, deep: bool) -> tuple[str, int, int]:
    """``(pixel format, encoded width, encoded height)`` for this format and frame size."""
    if deep:
        return fmt.deep_pixel_format, width, height
    pixel_format = fmt.mask_pixel_format if mask else fmt.pixel_format
    if pixel_format is None:
        raise SeedVRError(f"masks must be written losslessly: use .mkv, .avi or a folder, not {fmt.extension}")
    if fmt.chroma_halved and (width % 2 or height % 2):
        if odd_size == "yuv444p":
            return "yuv444p", width, height
        if odd_size == "pad":
            return pixel_format, width + width % 2, height + height % 2
        raise SeedVRError(
            f"{fmt.extension} (H.264 4:2:0) needs an even width and height, got {width}x{height}; "
            "pass odd_size='yuv444p' or 'pad', or write .mkv"
        )
    return pixel_format, width, height


class _PngFolderSink:
    """Frames as ``frame_000000.png``... (8 or 16 bits) plus ``fps.txt`` in a (temporary) folder."""

    def __init__(self, folder: Path, fps: Fraction) -> None:
        self._folder = folder
        self._fps = fps
        folder.mkdir()
        self.audio_mode = None

    def write_frame(self, index: int, frame: np.ndarray) -> None:
        write_png(self._folder / FRAME_NAME_PATTERN.format(index=index), frame)

    def finish(self) -> None:
        write_folder_fps(self._folder, self._fps)

    def abort(self) -> None:
        """Nothing to release: each PNG is closed as soon as it is written."""


class _EncoderSink:
    """Frames encoded by FFmpeg into a container file, with the source audio alongside."""

    def __init__(
        self,
        file: Path,
        fmt: OutputFormat,
        fps: Fraction,
        width: int,
        height: int,
        *,
        mask: bool,
        deep: bool,
        timestamps: FrameTimes | None,
        audio_from: Path | None,
        crf: int,
        odd_size: str,
        encoder_options: dict[str, str] | None,
    ) -> None:
        self._file = file
        self._fmt = fmt
        self._fps = fps
        self._timestamps = timestamps
        self._pixel_format, self._width, self._height = _encoding_layout(fmt, width, height, mask, odd_size, deep)
        self._pad = (self._height - height, self._width - width)
        self._input_format = "gray" if mask else "rgb48le" if deep else "rgb24"
        self._options = {**fmt.codec_options(crf), **(encoder_options or {})}
        self._audio: AudioPassthrough | None = None
        self._container = None
        try:
            self._open_with_audio_fallback(audio_from)
        except BaseException:
            self.abort()
            raise
        self.audio_mode = None if self._audio is None else ("copied" if self._audio.copied else "re-encoded")

    def _open_with_audio_fallback(self, audio_from: Path | None) -> None:
        try:
            self._open(audio_from, copy_audio=True)
            return
        except av.FFmpegError as error:
            if self._audio is None or not self._audio.copied:
                raise SeedVRError(f"cannot write {self._fmt.extension} video: {ffmpeg_reason(error)}") from None
        # The container refused the copied audio codec when writing its header: start again
        # with the audio re-encoded to the container's own codec.
        self.abort()
        self._file.unlink(missing_ok=True)
        try:
            self._open(audio_from, copy_audio=False)
        except av.FFmpegError as error:
            raise SeedVRError(f"cannot write {self._fmt.extension} video with audio: {ffmpeg_reason(error)}") from None

    def _open(self, audio_from: Path | None, *, copy_audio: bool) -> None:
        self._audio = None
        # bitexact: no random segment IDs or library version strings, so the same frames give
        # the same bytes on every run (the damaged dataset is meant to be byte-reproducible).
        container_options = {"fflags": "+bitexact", **self._fmt.container_options}
        self._container = av.open(str(self._file), mode="w", container_options=container_options)
        self._stream = self._container.add_stream(self._fmt.video_codec, rate=self._fps, options=self._options)
        self._stream.width = self._width
        self._stream.height = self._height
        self._stream.pix_fmt = self._pixel_format
        if self._timestamps is not None:
            # The source's own clock, so every frame keeps its own timestamp.
            self._stream.time_base = self._timestamps.time_base
            self._stream.codec_context.time_base = self._timestamps.time_base
        if self._pixel_format.startswith("yuv"):
            self._tag_bt601()
        if audio_from is not None:
            self._audio = AudioPassthrough(audio_from, self._container, self._fmt, copy=copy_audio)
        # Writes the header now, so a container that refuses a stream fails before any frame.
        self._container.start_encoding()

    def _tag_bt601(self) -> None:
        # FFmpeg converts our RGB frames to YUV with the BT.601 matrix in limited range. Saying
        # so in the stream matters: untagged HD video is shown by players as BT.709, with
        # shifted colours. (Values are FFmpeg's AVColorSpace / AVColorPrimaries / ... codes.)
        context = self._stream.codec_context
        context.colorspace = _AVCOL_SPC_SMPTE170M
        context.color_primaries = _AVCOL_PRI_SMPTE170M
        context.color_trc = _AVCOL_TRC_SMPTE170M
        context.color_range = _AVCOL_RANGE_MPEG

    def write_frame(self, index: int, frame: np.ndarray) -> None:
        if any(self._pad):
            # Edge replication: the added row/column repeats the last one, so the encoder
            # spends no bits on an artificial border.
            pad = ((0, self._pad[0]), (0, self._pad[1])) + ((0, 0),) * (frame.ndim - 2)
            frame = np.pad(frame, pad, mode="edge")
        video_frame = av.VideoFrame.from_ndarray(frame, format=self._input_format)
        if self._timestamps is None:
            video_frame.pts = index
        else:
            video_frame.pts = self._timestamps.pts[index]
            video_frame.time_base = self._timestamps.time_base
        self._container.mux(self._stream.encode(video_frame))
        if self._audio is not None:
            self._audio.mux_until(self._end_seconds(index))

    def _end_seconds(self, index: int) -> float:
        """When frame ``index`` stops showing: the next frame's time, one period for the last."""
        if self._timestamps is not None and index + 1 < len(self._timestamps):
            return float(self._timestamps.seconds(index + 1))
        start = self._timestamps.seconds(index) if self._timestamps is not None else index / self._fps
        return float(start + 1 / self._fps)

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))
        if self._audio is not None:
            self._audio.finish()
            self._audio.close()
        self._container.close()

    def abort(self) -> None:
        for close in (self._container, self._audio):
            if close is not None:
                try:
                    close.close()
                except Exception:  # noqa: BLE001 - releasing handles on the way out of an error
                    logger.debug("ignored error while closing an aborted output", exc_info=True)


class VideoWriter:
    """Stream RGB frames into a video file or PNG folder, atomically.

    Example::

        with VideoWriter(Path("out.mkv"), Fraction(30000, 1001), width, height, audio_from=src) as writer:
            for chunk in chunks:
                writer.write(chunk)   # uint8 [t, H, W, 3] or one frame [H, W, 3]

    Args:
        path: output path; its extension picks the format (see :mod:`seedvr.io.formats`).
        fps: exact frame rate (``Fraction``; int, float and ``"30000/1001"`` also accepted).
        width, height: frame size; every frame written must have it.
        audio_from: a video whose first audio stream is carried over (copied when the
            container allows, else re-encoded); ignored with a warning for PNG folders.
        crf: quality for H.264 (0-51) and VP9 (0-63); ignored by lossless formats.
        odd_size: what H.264 does with an odd width or height (see
            :data:`seedvr.io.formats.ODD_SIZE_POLICIES`): ``"yuv444p"`` (default), ``"pad"``
            or ``"error"``.
        encoder_options: extra FFmpeg encoder options (e.g. ``{"preset": "slow"}``).
        timestamps: each frame's time, for a variable frame rate (``VideoInfo.frame_times``
            of the source); frame ``i`` gets ``timestamps.pts[i]``. ``None``: frames are
            ``1 / fps`` apart. Refused by outputs that cannot store them (AVI, PNG folders).
        precision_from: the video the frames come from. When it is finer than 8-bit RGB
            (10-bit, 4:4:4: see :mod:`seedvr.io.precision`), a lossless output keeps its
            16-bit pixels wherever the frames written equal its 8-bit reading, i.e. outside
            the repaired pixels; a lossy (8-bit) output logs a warning saying what is lost,
            also in :attr:`precision_note`.

    Raises:
        SeedVRError: unsupported extension, missing output folder, bad size/fps/crf, an
            output that would replace ``audio_from``, timestamps the format cannot store,
            and (from :meth:`write`) frames that are not uint8 or not of the declared size.
    """

    _mask = False

    def __init__(
        self,
        path: str | os.PathLike,
        fps: Fraction | int | float | str,
        width: int,
        height: int,
        audio_from: str | os.PathLike | None = None,
        crf: int = REPAIR_DEFAULTS.crf,
        *,
        odd_size: str = "yuv444p",
        encoder_options: dict[str, str] | None = None,
        timestamps: FrameTimes | None = None,
        precision_from: str | os.PathLike | None = None,
    ) -> None:
        self.path = Path(path)
        self.fps = parse_fps(fps)
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise SeedVRError(f"{name} must be a positive integer, got {value!r}")
        self.width, self.height = int(width), int(height)
        if odd_size not in ODD_SIZE_POLICIES:
            raise SeedVRError(f"odd_size must be one of {list(ODD_SIZE_POLICIES)}, got {odd_size!r}")
        self.format = output_format_for(self.path)
        self.format.check_crf(crf)
        audio_source = self._audio_source(audio_from)
        self._timestamps = self._checked_timestamps(timestamps)
        if self.format.is_frame_folder:
            check_replaceable_frame_folder(self.path)
        self.precision_note: str | None = None
        """What the output loses of a high-precision ``precision_from``; ``None``: nothing."""
        self._precision = self._precision_source(precision_from)
        self.frames_written = 0
        self._closed = False
        try:
            self._pending = PendingOutput(self.path)
        except BaseException:
            self._close_precision_source()
            raise
        try:
            if self.format.is_frame_folder:
                self._sink = _PngFolderSink(self._pending.temp, self.fps)
            else:
                self._sink = _EncoderSink(
                    self._pending.temp,
                    self.format,
                    self.fps,
                    self.width,
                    self.height,
                    mask=self._mask,
                    deep=self._precision is not None,
                    timestamps=self._timestamps,
                    audio_from=audio_source,
                    crf=crf,
                    odd_size=odd_size,
                    encoder_options=encoder_options,
                )
        except BaseException:
            self._close_precision_source()
            self._pending.discard()
            raise

    def _checked_timestamps(self, timestamps: FrameTimes | None) -> FrameTimes | None:
        if timestamps is not None and not self.format.keeps_timestamps:
            kind = "a folder of PNG frames" if self.format.is_frame_folder else self.format.extension
            raise SeedVRError(
                f"{self.path}: the source's frame rate varies and {kind} cannot keep each frame's time; "
                "write .mkv, .mp4, .mov or .webm"
            )
        return timestamps

    def _precision_source(self, source: str | os.PathLike | None) -> PrecisionSource | None:
        """A reader of ``source``'s 16-bit pixels when it has finer ones and the output can keep them."""
        if source is None or input_kind(Path(source)) != "video":
            return None
        pixel_format = source_pixel_format(Path(source))
        if not is_high_precision(pixel_format):
            return None
        if self.format.deep_pixel_format is None:
            self.precision_note = (
                f"{source} has {pixel_format} pixels, finer than 8-bit RGB; {self.format.extension} is written "
                "with 8 bits per channel, so that precision is lost in every pixel (write .mkv to keep it)"
            )
            logger.warning("%s", self.precision_note)
            return None
        return PrecisionSource(Path(source))

    def _close_precision_source(self) -> None:
        if self._precision is not None:
            self._precision.close()

    def _audio_source(self, audio_from: str | os.PathLike | None) -> Path | None:
        if audio_from is None:
            return None
        source = Path(audio_from)
        if not source.exists():
            raise SeedVRError(f"audio source {source} does not exist")
        if source.resolve() == self.path.resolve():
            raise SeedVRError(f"output {self.path} would replace its own audio source; choose another output path")
        if source.is_dir() or not has_audio_stream(source):
            return None
        if self.format.is_frame_folder:
            logger.warning("a folder of PNG frames cannot hold audio; the audio of %s is not kept", source)
            return None
        return source

    @property
    def audio(self) -> str | None:
        """How the audio was carried: ``"copied"``, ``"re-encoded"`` or ``None`` (no audio)."""
        return self._sink.audio_mode

    def _frames_of(self, chunk) -> Sequence[np.ndarray]:
        """Check a chunk and return its frames (a one-frame chunk may omit the time axis)."""
        if isinstance(chunk, (list, tuple)):
            return [frame for item in chunk for frame in self._frames_of(item)]
        if not isinstance(chunk, np.ndarray):
            raise SeedVRError(f"frames must be a numpy array, got {type(chunk).__name__}")
        if chunk.dtype != np.uint8:
            raise SeedVRError(f"video frames must be uint8, got {chunk.dtype}")
        if chunk.ndim == 3:
            chunk = chunk[None]
        if chunk.ndim != 4 or chunk.shape[3] != 3:
            raise SeedVRError(f"video frames must be [T, H, W, 3] RGB, got shape {tuple(chunk.shape)}")
        self._check_size(chunk.shape[1], chunk.shape[2])
        return chunk

    def _check_size(self, height: int, width: int) -> None:
        if (height, width) != (self.height, self.width):
            raise SeedVRError(
                f"frame of {width}x{height} given to a writer of {self.width}x{self.height} ({self.path}); "
                "all frames must have one size"
            )

    def write(self, frames) -> None:
        """Append frames: an array ``[t, H, W, 3]`` / ``[H, W, 3]`` or a list of frames."""
        if self._closed:
            raise SeedVRError(f"writer for {self.path} is already closed")
        for frame in self._frames_of(frames):
            if self._timestamps is not None and self.frames_written >= len(self._timestamps):
                raise SeedVRError(f"{self.path}: more frames written than the {len(self._timestamps)} timestamps given")
            if self._precision is not None:
                frame = self._precision.restore(frame)
            try:
                self._sink.write_frame(self.frames_written, np.ascontiguousarray(frame))
            except av.FFmpegError as error:
                # An encoder or disk failure (disk full, quota): one line, like any input error.
                raise SeedVRError(f"cannot write {self.path}: {ffmpeg_reason(error)}") from None
            self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path.

        Raises:
            SeedVRError: no frame was written (nothing is left at the target).
        """
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.frames_written == 0:
                raise SeedVRError(f"no frames were written to {self.path}")
            self._sink.finish()
        except BaseException:
            self._sink.abort()
            self._pending.discard()
            raise
        finally:
            self._close_precision_source()
        return self._pending.commit()

    def abort(self) -> None:
        """Give up: delete the temporary output; nothing appears at the target."""
        if self._closed:
            return
        self._closed = True
        self._close_precision_source()
        self._sink.abort()
        self._pending.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


class MaskWriter(VideoWriter):
    """Stream bool masks ``[t, H, W]`` (True = damaged) into a lossless mask video or PNG folder.

    Pixels are written as 255 (damaged) and 0 (intact) in grey: FFV1 ``gray`` in ``.mkv`` /
    ``.avi``, or grey PNG frames in a folder. Lossy formats are refused, because compression
    would move pixels across the damage threshold.
    """

    _mask = True

    def __init__(self, path: str | os.PathLike, fps: Fraction | int | float | str, width: int, height: int) -> None:
        super().__init__(path, fps, width, height)

    def _frames_of(self, chunk) -> Sequence[np.ndarray]:
        if isinstance(chunk, (list, tuple)):
            return [frame for item in chunk for frame in self._frames_of(item)]
        if not isinstance(chunk, np.ndarray):
            raise SeedVRError(f"masks must be a numpy array, got {type(chunk).__name__}")
        if chunk.dtype != np.bool_ and not np.issubdtype(chunk.dtype, np.integer):
            raise SeedVRError(f"masks must be bool or integer (non-zero = damaged), got {chunk.dtype}")
        if chunk.ndim == 2:
            chunk = chunk[None]
        if chunk.ndim != 3:
            raise SeedVRError(f"masks must be [T, H, W], got shape {tuple(chunk.shape)}")
        self._check_size(chunk.shape[1], chunk.shape[2])
        return np.where(chunk != 0, np.uint8(255), np.uint8(0))


def write_video(
    path: str | os.PathLike,
    frames,
    fps: Fraction | int | float | str,
    audio_from: str | os.PathLike | None = None,
    crf: int = REPAIR_DEFAULTS.crf,
    **options,
) -> Path:
    """Write a whole video (uint8 ``[T, H, W, 3]`` RGB, or a list of ``[H, W, 3]`` frames).

    Same formats, options and guarantees as :class:`VideoWriter` (``odd_size``,
    ``encoder_options`` pass through ``options``). Returns the final path.
    """
    height, width = _first_frame_size(frames, what="frames", frame_ndim=3)
    with VideoWriter(path, fps, width, height, audio_from=audio_from, crf=crf, **options) as writer:
        writer.write(frames)
    return writer.path


def write_mask(path: str | os.PathLike, mask, fps: Fraction | int | float | str) -> Path:
    """Write a whole mask (``[T, H, W]`` bool or integers, non-zero = damaged) losslessly.

    ``.mkv`` / ``.avi`` give an FFV1 grey video, a path without suffix a folder of grey PNGs;
    damaged pixels are 255, intact ones 0. Returns the final path.
    """
    height, width = _first_frame_size(mask, what="mask", frame_ndim=2)
    with MaskWriter(path, fps, width, height) as writer:
        writer.write(mask)
    return writer.path


def _first_frame_size(frames, *, what: str, frame_ndim: int) -> tuple[int, int]:
    """``(H, W)`` of the first frame, checked before any output is created."""
    if isinstance(frames, (list, tuple)):
        if not frames:
            raise SeedVRError(f"no {what} to write: the list is empty")
        first = frames[0]
        if not isinstance(first, np.ndarray) or first.ndim != frame_ndim:
            raise SeedVRError(f"each item of {what} must be a numpy array with {frame_ndim} dimensions")
        return int(first.shape[0]), int(first.shape[1])
    if not isinstance(frames, np.ndarray) or frames.ndim != frame_ndim + 1:
        raise SeedVRError(
            f"{what} must be a numpy array with {frame_ndim + 1} dimensions ([T, H, W{', 3' if frame_ndim == 3 else ''}])"
        )
    if frames.shape[0] == 0:
        raise SeedVRError(f"no {what} to write: the array has 0 frames")
    return int(frames.shape[1]), int(frames.shape[2])
