"""``probe``: frame count, size, exact frame rate and audio of a video, a frame folder or an image."""

from __future__ import annotations

import os
from pathlib import Path

from seedvr.errors import SeedVRError
from seedvr.io.decode import frame_rate, open_video, scan_frames
from seedvr.io.formats import input_kind
from seedvr.io.frames import image_size, list_frame_files, read_folder_fps
from seedvr.io.info import DEFAULT_FOLDER_FPS, VideoInfo, snap_frame_rate


def probe(path: str | os.PathLike) -> VideoInfo:
    """Describe a video without loading it.

    ``path`` may be a video file (mp4, mkv, mov, avi, webm...), a folder of numbered
    PNG/JPG frames (frame rate from its ``fps.txt``, else 24) or a single image (one frame at
    24 fps). The frame count is exact (see :func:`seedvr.io.decode.scan_frames`); a file cut
    short of the length its container declares is refused. A variable frame rate is kept as
    ``frame_times``, with ``fps`` its average.

    Raises:
        SeedVRError: missing path, unsupported extension, unreadable file, no video stream,
            no frames, or an empty folder; :class:`~seedvr.io.timeline.IncompleteVideoError`
            for a truncated file.
    """
    path = Path(path)
    kind = input_kind(path)
    if kind == "folder":
        return _probe_folder(path)
    if kind == "image":
        height, width = image_size(path)
        return VideoInfo(path=path, frames=1, height=height, width=width, fps=DEFAULT_FOLDER_FPS)
    return _probe_video_file(path)


def _probe_folder(folder: Path) -> VideoInfo:
    files = list_frame_files(folder)
    if not files:
        raise SeedVRError(f"folder {folder} holds no PNG/JPG frames")
    # Only the first frame is opened: the others are checked against it when they are read.
    height, width = image_size(files[0])
    return VideoInfo(path=folder, frames=len(files), height=height, width=width, fps=read_folder_fps(folder))


def _probe_video_file(path: Path) -> VideoInfo:
    with open_video(path) as (container, stream):
        height, width = stream.codec_context.height, stream.codec_context.width
        fps = frame_rate(stream, path)
        has_audio = bool(container.streams.audio)
        codec = stream.codec_context.name
    if height <= 0 or width <= 0:
        raise SeedVRError(f"{path} does not say its frame size")
    timeline = scan_frames(path)
    if timeline.count == 0:
        raise SeedVRError(f"{path} has no frames")
    frame_times = timeline.frame_times(fps)
    if frame_times is not None:
        # A variable rate: the container's rate is a guess (often its clock's, 1000 fps);
        # the measured average is the truthful one.
        fps = snap_frame_rate(timeline.average_rate(fps).limit_denominator(1_000_000))
    return VideoInfo(
        path=path,
        frames=timeline.count,
        height=height,
        width=width,
        fps=fps,
        has_audio=has_audio,
        codec=codec,
        frame_times=frame_times,
    )
