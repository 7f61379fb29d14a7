"""Reading damage masks: a video, a frame folder, or one image applied to every frame.

A mask in memory is ``bool [T, H, W]``, True = damaged. On disk, pixels are thresholded by
the rule in :mod:`seedvr.io.threshold` (grey >= 128 is damaged; colour uses its brightest
channel; transparent pixels are intact; a label mask, with nothing at 128 or above, is
damaged wherever it is non-zero). Writing is in :mod:`seedvr.io.writer`
(``write_mask`` / ``MaskWriter``: 255 = damaged, lossless formats only).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.formats import input_kind
from seedvr.io.frames import image_size, read_image_mask_levels
from seedvr.io.info import VideoInfo
from seedvr.io.probe import probe
from seedvr.io.reader import check_chunk_frames, iter_frames, stack_chunks
from seedvr.io.threshold import LABEL_THRESHOLD, damaged, levels_from_colour, levels_from_grey, mask_rule

logger = logging.getLogger(__name__)

_WHOLE = 1 << 40


def levels_from_video_frame(frame: av.VideoFrame) -> np.ndarray:
    """A decoded mask frame as uint8 mask levels ``[H, W]``, before thresholding.

    Grey formats are read as grey directly (exact levels); formats with alpha go through
    RGBA so transparency counts; everything else (YUV, RGB, palettes) through RGB.
    """
    components = frame.format.components
    if any(component.is_alpha for component in components):
        rgba = frame.to_ndarray(format="rgba")
        return levels_from_colour(rgba[..., :3], rgba[..., 3])
    # A palette (GIF) is one index component but holds colours: it goes through RGB.
    if len(components) == 1 and not frame.format.has_palette:
        return levels_from_grey(frame.to_ndarray(format="gray"))
    return levels_from_colour(frame.to_ndarray(format="rgb24"))


@functools.cache
def _say_read_as_labels(path: Path) -> None:
    # Once per mask and process: a repair reads its mask more than once.
    logger.warning("%s marks no pixel at 128 or above: read as a label mask, every non-zero pixel damaged", path)


def _threshold_for(path: Path, levels: Iterable[np.ndarray], require_damage: bool) -> int:
    rule = mask_rule(levels)
    if require_damage and not rule.marks_damage:
        raise SeedVRError(f"mask {path} marks no pixel as damaged: there is nothing to repair")
    if rule.threshold == LABEL_THRESHOLD:
        _say_read_as_labels(path)
    return rule.threshold


def _check_size(mask_path: Path, height: int, width: int, info: VideoInfo) -> None:
    if (height, width) != (info.height, info.width):
        raise SeedVRError(f"mask {mask_path} is {width}x{height} but the video {info.path} is {info.width}x{info.height}")


def _broadcast_chunks(frame_mask: np.ndarray, frames: int, chunk_frames: int) -> Iterator[np.ndarray]:
    # Each chunk is a fresh writable array: callers may edit a chunk in place.
    for start in range(0, frames, chunk_frames):
        yield np.repeat(frame_mask[None], min(chunk_frames, frames - start), axis=0)


def iter_mask_chunks(
    path: str | os.PathLike, chunk_frames: int, info: VideoInfo | None = None, *, require_damage: bool = False
) -> Iterator[np.ndarray]:
    """Stream a mask as bool arrays ``[t, H, W]`` of ``chunk_frames`` frames each.

    Args:
        path: a mask video, a folder of mask frames, or one image (applied to every frame).
        chunk_frames: frames per chunk (the last chunk may be shorter).
        info: the video the mask belongs to. When given, the mask must have its size and,
            unless it is one image, its frame count; a one-image mask is repeated
            ``info.frames`` times. Without it a one-image mask is one frame.
        require_damage: refuse a mask that marks no pixel (a user's mask that would repair
            nothing); a detected mask may be empty.

    Raises:
        SeedVRError: unreadable mask, a size / frame count that does not match ``info``, or
            no damaged pixel with ``require_damage``.
    """
    path = Path(path)
    chunk_frames = check_chunk_frames(chunk_frames)
    if input_kind(path) == "image":
        if info is not None:
            # From the header, before decoding: a small file can hold a huge image.
            _check_size(path, *image_size(path), info)
        frame_levels = read_image_mask_levels(path)
        if info is not None:
            _check_size(path, *frame_levels.shape, info)  # a header that lied
        frame_mask = damaged(frame_levels, _threshold_for(path, [frame_levels], require_damage))
        return _broadcast_chunks(frame_mask, info.frames if info is not None else 1, chunk_frames)
    if info is not None:
        # Checked before the first chunk so a mismatch fails before any repair work is done.
        mask_info = probe(path)
        _check_size(path, mask_info.height, mask_info.width, info)
        if mask_info.frames != info.frames:
            raise SeedVRError(f"mask {path} has {mask_info.frames} frames but the video {info.path} has {info.frames}")

    def levels() -> Iterator[np.ndarray]:
        return iter_frames(path, levels_from_video_frame, read_image_mask_levels)

    # Which rule applies is the whole mask's property: read (up to its first frame at 128 or
    # above) before any chunk is given out.
    threshold = _threshold_for(path, levels(), require_damage)
    return stack_chunks((damaged(frame_levels, threshold) for frame_levels in levels()), chunk_frames)


def read_mask(path: str | os.PathLike, info: VideoInfo | None = None) -> np.ndarray:
    """Read a whole mask as bool ``[T, H, W]`` (True = damaged).

    Same inputs and checks as :func:`iter_mask_chunks`; a one-image mask with ``info`` gives
    ``info.frames`` identical frames.
    """
    # One chunk longer than any video: the whole mask in a single array.
    (whole,) = iter_mask_chunks(path, _WHOLE, info)
    return whole
