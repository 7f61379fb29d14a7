"""Sources finer than 8-bit RGB: 10/12/16-bit video and 4:4:4 YUV.

The model and every repair method work on uint8 RGB. A high-precision source is read as
16-bit RGB and rounded to 8 bits (:func:`rgb_from_video_frame`), one rule for every reader.
A lossless output keeps the source's own pixels: :class:`PrecisionSource` decodes the source
again, in step with the writer, and every pixel that the repair left equal to the source's
8-bit reading is written with the source's 16-bit value; only repaired pixels are 8-bit
values, expanded to 16 bits (the price: the source is decoded twice). A lossy output
(H.264, VP9) is 8-bit: the writer says so, on stderr and in its ``precision_note``.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import av
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.io.decode import decode_frames, open_video

_16_BIT_MAX = 65535
_8_TO_16 = 257  # 255 * 257 = 65535: 8-bit values spread over the whole 16-bit range


@functools.lru_cache(maxsize=64)
def is_high_precision(pixel_format: str | None) -> bool:
    """Whether 8-bit RGB loses information of frames in ``pixel_format``.

    True for components deeper than 8 bits, and for YUV with full-resolution chroma (4:4:4),
    whose per-pixel colour 8-bit RGB cannot hold exactly. 4:2:0 and 4:2:2 8-bit YUV, the
    usual video, are read as 8-bit RGB as the project's data contract says.
    """
    if not pixel_format:
        return False
    try:
        layout = av.VideoFormat(pixel_format, 2, 2)
    except ValueError:
        return False
    colour = [component for component in layout.components if not component.is_alpha]
    if any(component.bits > 8 for component in colour):
        return True
    full_chroma = layout.chroma_width(2) == 2 and layout.chroma_height(2) == 2
    return len(colour) >= 3 and not layout.is_rgb and not layout.has_palette and full_chroma


def eight_bits(values: np.ndarray) -> np.ndarray:
    """16-bit values rounded to the nearest 8-bit value (``round(v / 257)``, exactly)."""
    return ((values.astype(np.uint32) * 255 + _16_BIT_MAX // 2) // _16_BIT_MAX).astype(np.uint8)


def sixteen_bits(values: np.ndarray) -> np.ndarray:
    """8-bit values on the 16-bit scale (0 -> 0, 255 -> 65535)."""
    return values.astype(np.uint16) * _8_TO_16


def rgb_from_video_frame(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as uint8 RGB ``[H, W, 3]`` (grey replicated, alpha dropped).

    High-precision frames go through 16-bit RGB and are rounded, so the 8-bit reading of a
    source and of a 16-bit output written from it agree pixel for pixel.
    """
    if is_high_precision(frame.format.name):
        return eight_bits(frame.to_ndarray(format="rgb48le"))
    return frame.to_ndarray(format="rgb24")


def source_pixel_format(path: Path) -> str | None:
    """The pixel format of the first video stream of ``path`` (``None`` if it does not say)."""
    with open_video(path) as (_, stream):
        return stream.codec_context.pix_fmt


class PrecisionSource:
    """The frames of a high-precision source at 16 bits, read in step with a writer.

    :meth:`restore` takes the next frame written (uint8 RGB) and returns it at 16 bits: the
    source's own value wherever the frame equals the source's 8-bit reading, the written
    value expanded elsewhere. Call :meth:`close` in every case.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._files = contextlib.ExitStack()
        container, stream = self._files.enter_context(open_video(path))
        self._frames = decode_frames(container, stream, path)

    def restore(self, frame: np.ndarray) -> np.ndarray:
        source = next(self._frames, None)
        if source is None:
            raise SeedVRError(f"more frames were written than {self.path} holds; its pixels cannot be kept")
        deep = source.to_ndarray(format="rgb48le")
        if deep.shape != frame.shape:
            raise SeedVRError(
                f"frames of {frame.shape[1]}x{frame.shape[0]} cannot keep the pixels of {self.path} "
                f"({deep.shape[1]}x{deep.shape[0]})"
            )
        unchanged = (frame == eight_bits(deep)).all(axis=-1, keepdims=True)
        return np.where(unchanged, deep, sixteen_bits(frame))

    def close(self) -> None:
        self._frames.close()
        self._files.close()
