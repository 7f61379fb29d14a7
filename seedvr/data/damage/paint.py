"""Painting damage into pixels: tone, colour cast, grain texture and soft edges.

Only the pixels inside the mask are read and written (gathered by flat index), so the
cost follows the damaged area, and ``damaged == clean`` holds exactly outside the mask by
construction: those pixels are never touched.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from seedvr.data.damage.base import PaintStyle
from seedvr.data.damage.drawing import filter_frames

# The grain texture does not depend on the caller's seed: it is fixed (per frame width),
# and each clip's generator only picks where in it the clip reads. Building it once keeps
# on-the-fly damage cheap.
_GRAIN_TEXTURE_SEED = 20240517
# Rows of the grain texture; a clip reads it from a random row on, wrapping around.
_GRAIN_ROWS = 1024

# An RGB pixel as one 3-byte item: gathering and scattering whole pixels by flat index is
# several times faster on this view than fancy indexing on the ``[N, 3]`` array.
_PIXEL = np.dtype((np.void, 3))


@lru_cache(maxsize=8)
def grain_texture(width: int) -> np.ndarray:
    """Fixed ``float32`` texture of ``_GRAIN_ROWS`` x ``width`` pixels, flattened: film grain
    plus mottling, in about [-1, 1].

    Stored flat with the frame's own width, so the grain of damaged pixel number ``i``
    (flat index over ``[T, H, W]``) is simply ``texture[(i + offset) % texture.size]``:
    one gather, yet spatially coherent in 2-D, and each frame reads different rows.
    """
    rng = np.random.default_rng([_GRAIN_TEXTURE_SEED, width])
    fine = rng.standard_normal((_GRAIN_ROWS, width), dtype=np.float32)
    mottled = cv2.GaussianBlur(rng.standard_normal((_GRAIN_ROWS, width), dtype=np.float32), (0, 0), 3.0)
    mottled /= max(float(mottled.std()), 1e-6)
    texture = 0.6 * fine + 0.8 * mottled
    texture /= 3.0 * float(texture.std())
    flat = np.clip(texture, -1.0, 1.0).reshape(-1)
    flat.setflags(write=False)
    return flat


def _grain_at(rng: np.random.Generator, index: np.ndarray, width: int) -> np.ndarray:
    """Grain values (``float32`` in about [-1, 1]) at flat pixel indices of a clip."""
    texture = grain_texture(width)
    offset = int(rng.integers(0, _GRAIN_ROWS)) * width
    return np.take(texture, index + offset, mode="wrap")


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
    near the mask border (a box filter of the mask) so the damage has soft edges while
    staying strictly inside the mask.
    """
    if not damaged.flags.c_contiguous:
        raise ValueError("paint_damage needs a C-contiguous frame array")
    width = tone.shape[2]
    inside = tone > 0
    index = np.flatnonzero(inside)
    if index.size == 0:
        return
    grey = np.take(tone, index).astype(np.float32)

    opacity = np.float32(rng.uniform(*style.opacity))
    if style.edge_blur > 1:
        kernel = (style.edge_blur, style.edge_blur)
        # Unnormalised box sums of the 0/1 mask: how many neighbours are damaged.
        neighbours = filter_frames(
            inside.view(np.uint8),
            lambda image: cv2.boxFilter(image, -1, kernel, normalize=False, borderType=cv2.BORDER_CONSTANT),
            reach=style.edge_blur // 2,
        )
        share = neighbours[inside].astype(np.float32) * np.float32(1.0 / (style.edge_blur**2))
        # A pixel deep inside the mask keeps full strength; one on the border about half.
        alpha = np.minimum(share * np.float32(1.3) + np.float32(0.35), np.float32(1.0))
        alpha *= opacity
    else:
        alpha = np.full(index.size, opacity, dtype=np.float32)

    grain = _grain_at(rng, index, width)
    grain *= np.float32(style.grain)
    colour = _colour_cast(rng, style.colourful)

    pixels = damaged.reshape(-1).view(_PIXEL)
    source = np.take(pixels, index).view(np.uint8).reshape(-1, 3).astype(np.float32)
    paint = grey[:, None] * colour[None, :]
    paint += grain[:, None]
    if style.luma_matched:  # the paint's luma moved to the picture's beneath it: only its hue shows
        luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        paint += (source @ luma - paint @ luma)[:, None]
    paint -= source
    paint *= alpha[:, None]
    paint += source
    np.clip(paint, 0.0, 255.0, out=paint)
    paint += np.float32(0.5)
    np.put(pixels, index, paint.astype(np.uint8).reshape(-1).view(_PIXEL))
