"""Reading videos as uint8 RGB arrays, whole or as a lazy stream of chunks.

Every reader decodes lazily: :func:`iter_video_chunks` holds at most one chunk (plus the
decoder's few frames of look-ahead) in memory, whatever the length of the video.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.decode import check_readable_video, decode_frames, open_video
from seedvr.io.formats import input_kind
from seedvr.io.frames import image_size, list_frame_files, read_image_rgb
from seedvr.io.precision import rgb_from_video_frame
from seedvr.io.probe import probe


def check_chunk_frames(chunk_frames: int) -> int:
    """Validate a chunk length (a positive integer)."""
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, (int, np.integer)) or chunk_frames < 1:
        raise SeedVRError(f"chunk_frames must be a positive integer, got {chunk_frames!r}")
    return int(chunk_frames)


def iter_frames(
    path: Path,
    from_video_frame: Callable[[av.VideoFrame], np.ndarray],
    from_image_file: Callable[[Path], np.ndarray],
) -> Iterator[np.ndarray]:
    """Frames of a video file, frame folder or single image, one array per frame, lazily.

    The two converters turn a decoded video frame or an image file into the wanted array
    (RGB for videos, bool for masks). Every frame must have the size of the first one. A
    missing path, an empty folder or a file that is not a video fails here, at once; problems
    inside the frames fail when those frames are reached.

    Raises:
        SeedVRError: unreadable input, a frame of another size, or no frame at all.
    """
    kind = input_kind(path)
    if kind == "folder":
        files = list_frame_files(path)
        if not files:
            raise SeedVRError(f"folder {path} holds no PNG/JPG frames")
        frames = _decoded_after_header_check(path, files, from_image_file)
        names = [file.name for file in files]
    elif kind == "image":
        frames = (from_image_file(file) for file in [path])
        names = [path.name]
    else:
        check_readable_video(path)
        frames = _iter_video_file(path, from_video_frame)
        names = None
    return _checked_sizes(path, frames, names)


def _size_mismatch(path: Path, where: str, size: tuple[int, int], first: tuple[int, int]) -> SeedVRError:
    return SeedVRError(
        f"{path}: {where} is {size[1]}x{size[0]} but the first frame is {first[1]}x{first[0]}; all frames must have one size"
    )


def _decoded_after_header_check(
    folder: Path, files: list[Path], from_image_file: Callable[[Path], np.ndarray]
) -> Iterator[np.ndarray]:
    """Decode each frame file once its header has shown the size of the first one.

    A frame of another size is refused before its pixels are decoded (it may be huge).
    """
    first = image_size(files[0])
    for file in files:
        size = image_size(file) if file is not files[0] else first
        if size != first:
            raise _size_mismatch(folder, file.name, size, first)
        yield from_image_file(file)


def _checked_sizes(path: Path, frames: Iterator[np.ndarray], names: list[str] | None) -> Iterator[np.ndarray]:
    first_shape = None
    count = 0
    for frame in frames:
        if first_shape is None:
            first_shape = frame.shape
        elif frame.shape[:2] != first_shape[:2]:
            raise _size_mismatch(path, names[count] if names else f"frame {count}", frame.shape[:2], first_shape[:2])
        count += 1
        yield frame
    if count == 0:
        raise SeedVRError(f"{path} has no frames")


def _iter_video_file(path: Path, convert: Callable[[av.VideoFrame], np.ndarray]) -> Iterator[np.ndarray]:
    with open_video(path) as (container, stream):
        for frame in decode_frames(container, stream, path):
            yield convert(frame)


def stack_chunks(frames: Iterator[np.ndarray], chunk_frames: int) -> Iterator[np.ndarray]:
    """Group single frames into arrays of ``chunk_frames`` frames (the last may be shorter)."""
    chunk: list[np.ndarray] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == chunk_frames:
            yield np.stack(chunk)
            chunk = []
    if chunk:
        yield np.stack(chunk)


def iter_video_chunks(path: str | os.PathLike, chunk_frames: int) -> Iterator[np.ndarray]:
    """Stream a video as uint8 RGB arrays ``[t, H, W, 3]`` of ``chunk_frames`` frames each.

    Frames are decoded only as the chunks are consumed; the last chunk may be shorter.
    Works for video files, frame folders and single images like :func:`read_video`.

    Raises:
        SeedVRError: see :func:`read_video`; also a chunk length that is not a positive integer.
    """
    chunk_frames = check_chunk_frames(chunk_frames)
    return stack_chunks(iter_frames(Path(path), rgb_from_video_frame, read_image_rgb), chunk_frames)


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Read a whole video as uint8 RGB ``[T, H, W, 3]``.

    ``path`` is a video file, a folder of numbered frames or a single image. Grey sources are
    replicated to three channels, alpha is dropped. For long videos prefer
    :func:`iter_video_chunks`, whose memory does not grow with the length.

    Raises:
        SeedVRError: missing path, unsupported extension, unreadable or corrupt file, empty
            folder, no frames, or frames of different sizes.
    """
    return np.stack(list(iter_frames(Path(path), rgb_from_video_frame, read_image_rgb)))


def clip_start(start: int, frames: int, total: int) -> int:
    """Where :func:`read_clip` starts ``frames`` frames asked for at ``start`` of a ``total``-frame
    video: moved back as far as the window needs to fit."""
    return max(0, min(start, total - frames))


def read_clip(path: str | Path, start: int, frames: int) -> tuple[np.ndarray, int]:
    """``frames`` consecutive frames from ``start`` (moved back so the window fits) and that start."""
    if frames < 2:
        raise SeedVRError(f"a clip needs at least 2 frames, got {frames}")
    total = probe(path).frames
    if total < frames:
        raise SeedVRError(f"{Path(path).name} has {total} frames, fewer than the {frames} asked for")
    start = clip_start(start, frames, total)
    kept: list[np.ndarray] = []
    seen = 0
    for chunk in iter_video_chunks(path, 16):
        low, high = max(start - seen, 0), min(start + frames - seen, len(chunk))
        if low < high:
            kept.append(chunk[low:high])
        seen += len(chunk)
        if seen >= start + frames:
            break
    clip = np.concatenate(kept) if kept else np.empty((0,), np.uint8)
    if len(clip) != frames:
        raise SeedVRError(f"{Path(path).name}: decoded {len(clip)} frames from {start}, expected {frames}")
    return clip, start
