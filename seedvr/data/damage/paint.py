"""Painting damage into pixels: tone, colour cast, grain texture and soft edges.

Only the pixels inside the mask are read and written (gathered by flat index), so the
cost follows the damaged area, and ``damaged == clean`` holds exactly outside the mask by
construction: those pixels are never touched.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from seedvr.data.damage.drawing import filter_frames
from seedvr.data.damage.base import PaintStyle

# The grain texture does not depend on any seed: it is a fixed tile, and each clip's
# generator only picks where in it every frame reads. Building it once per size keeps
# on-the-fly damage cheap.
_GRAIN_TILE_SEED = 20240517

# An RGB pixel as one 3-byte item: gathering and scattering whole pixels by flat index is
# several times faster on this view than fancy indexing on the ``[N, 3]`` array.
_PIXEL = np.dtype((np.void, 3))


@lru_cache(maxsize=8)
def grain_tile(size: int) -> np.ndarray:
    """Fixed ``int16 [2 * size, 2 * size]`` texture in about [-128, 127]: grain plus mottling.

    The ``size`` x ``size`` texture is periodic and stored tiled twice in each direction, so
    any ``size`` x ``size`` window starting inside the first tile is a plain slice.
    """
    rng = np.random.default_rng(_GRAIN_TILE_SEED + size)
    fine = rng.standard_normal((size, size), dtype=np.float32)
    noise = rng.standard_normal((size, size), dtype=np.float32)
    # Blur with wrapped borders (pad by wrapping, crop back) so the repeated tile is seamless.
    pad = 12
    mottled = cv2.GaussianBlur(np.pad(noise, pad, mode="wrap"), (0, 0), 3.0)[pad:-pad, pad:-pad]
    mottled /= max(float(mottled.std()), 1e-6)
    texture = 0.6 * fine + 0.8 * mottled
    texture *= 128.0 / (3.0 * float(texture.std()))
    tile = np.clip(np.rint(texture), -128, 127).astype(np.int16)
    tiled = np.tile(tile, (2, 2))
    tiled.setflags(write=False)
    return tiled


def _tile_size(height: int, width: int) -> int:
    """Power of two at least as large as the frame."""
    return 1 << max(6, int(np.ceil(np.log2(max(height, width)))))


def _grain_frames(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    """``int16 [T, H, W]`` grain: each frame a window at a random place of the fixed tile."""
    size = _tile_size(height, width)
    tile = grain_tile(size)
    offsets = rng.integers(0, size, size=(frames, 2))
    grain = np.empty((frames, height, width), np.int16)
    for frame, (row, col) in enumerate(offsets):
        grain[frame] = tile[row : row + height, col : col + width]
    return grain


def _colour_cast(rng: np.random.Generator, colourful: bool) -> np.ndarray:
    """Per-channel multipliers: a saturated random colour, or film's faint warm cast."""
    if colourful:
        colour = rng.uniform(0.15, 1.0, 3)
        colour[rng.integers(3)] = 1.0  # one full channel keeps the colour bright enough
        return (colour * rng.uniform(0.9, 1.35)).astype(np.float32)
    warm = rng.uniform(0.0, 0.08)
    return np.array([1.0 + warm, 1.0, 1.0 - warm], dtype=np.float32)


def paint_damage(damaged: np.ndarray, tone: np.ndarray, rng: np.random.Generator, style: PaintStyle) -> None:
    """Paint the damage described by ``tone`` (``uint8 [T, H, W]``) into ``damaged`` in place.

    ``damaged`` is a C-contiguous ``uint8 [T, H, W, 3]``. Inside the mask each pixel moves
    towards ``grey * colour + grain`` by ``alpha``; alpha is the clip's opacity, lowered
    near the mask border (a box blur of the mask) so the damage has soft edges while
    staying strictly inside the mask.
    """
    if not damaged.flags.c_contiguous:
        raise ValueError("paint_damage needs a C-contiguous frame array")
    frames, height, width = tone.shape
    inside = tone > 0
    index = np.flatnonzero(inside)
    if index.size == 0:
        return
    grey = np.take(tone, index).astype(np.float32)

    opacity = np.float32(rng.uniform(*style.opacity))
    if style.edge_blur > 1:
        kernel = (style.edge_blur, style.edge_blur)
        blurred = filter_frames(
            inside.view(np.uint8) * np.uint8(255),
            lambda image: cv2.blur(image, kernel, borderType=cv2.BORDER_CONSTANT),
            reach=style.edge_blur // 2,
        )
        soft = blurred[inside]  # C order, like ``index``
        # A pixel deep inside the mask keeps full strength; one on the border about half.
        alpha = np.minimum(soft.astype(np.float32) * np.float32(1.3 / 255.0) + np.float32(0.35), np.float32(1.0))
        alpha *= opacity
    else:
        alpha = np.full(index.size, opacity, dtype=np.float32)

    grain = np.take(_grain_frames(rng, frames, height, width), index).astype(np.float32)
    grain *= np.float32(style.grain / 128.0)
    colour = _colour_cast(rng, style.colourful)

    pixels = damaged.reshape(-1).view(_PIXEL)
    source = np.take(pixels, index).view(np.uint8).reshape(-1, 3).astype(np.float32)
    paint = grey[:, None] * colour[None, :]
    paint += grain[:, None]
    paint -= source
    paint *= alpha[:, None]
    paint += source
    np.clip(paint, 0.0, 255.0, out=paint)
    paint += np.float32(0.5)
    np.put(pixels, index, paint.astype(np.uint8).reshape(-1).view(_PIXEL))
