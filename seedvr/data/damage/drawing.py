"""Shared drawing helpers for the damage kinds: fixed-point points, smooth motion, filters.

Every kind draws *tone canvases*: ``uint8 [T, H, W]`` arrays where 0 means "no damage"
and 1..255 is the grey level the damage is painted with. One array therefore carries both
the mask (``tone > 0``) and the look of each element, so a kind draws once per frame
instead of twice (mask + colour).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

# OpenCV draws with sub-pixel precision when points are fixed-point integers with this
# many fractional bits; smooth motion then does not snap to whole pixels.
SHIFT = 2
FIXED = 1 << SHIFT

# Hard-edged drawing: the mask must be binary; soft edges come from painting.
LINE = cv2.LINE_8


def size_unit(height: int, width: int) -> float:
    """Length scale of the frame: 1.0 at 128 px on the short side, so shapes scale with it."""
    return max(min(height, width) / 128.0, 0.25)


def to_fixed(xy: np.ndarray) -> np.ndarray:
    """Float pixel coordinates ``[..., 2]`` as OpenCV fixed-point ``int32`` points."""
    return np.rint(np.asarray(xy, dtype=np.float64) * FIXED).astype(np.int32)


def reflect(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fold ``values`` back into ``[low, high]`` like a ball bouncing off walls.

    Motion paths go through this so moving damage stays in the frame (a frame whose damage
    left the picture would have an empty mask).
    """
    values = np.asarray(values, dtype=np.float64)
    span = high - low
    if span <= 0:
        return np.full_like(values, low)
    folded = np.mod(values - low, 2.0 * span)
    return low + np.where(folded > span, 2.0 * span - folded, folded)


def smooth_wobble(rng: np.random.Generator, frames: int, amplitude: float, count: int = 1) -> np.ndarray:
    """``count`` smooth 1-D signals over ``frames``: sums of two slow sinusoids.

    Periods of 6 to 40 frames give the gentle, continuous drift of real motion; the
    amplitudes are split so each signal stays within ``amplitude``.
    """
    t = np.arange(frames, dtype=np.float64)[None, :, None]
    periods = rng.uniform(6.0, 40.0, size=(count, 1, 2))
    phases = rng.uniform(0.0, 2.0 * np.pi, size=(count, 1, 2))
    weights = rng.dirichlet((2.0, 2.0), size=count)[:, None, :] * amplitude
    return (weights * np.sin(2.0 * np.pi * t / periods + phases)).sum(axis=-1)


def linear_path(
    rng: np.random.Generator, frames: int, height: int, width: int, speed: float, wobble: float, margin: float = 0.0
) -> np.ndarray:
    """Smooth ``[T, 2]`` (x, y) trajectory inside the frame: a start point, a constant
    velocity of ``speed`` px/frame in a random direction, a slow wobble, folded into the frame.

    ``margin`` keeps the path that far from the borders (as far as the frame allows), so a
    shape of that radius around it stays mostly in view and covers the area it was sized for.
    """
    margin_x = min(margin, (width - 1) / 2.0)
    margin_y = min(margin, (height - 1) / 2.0)
    start = np.array([rng.uniform(margin_x, width - 1 - margin_x), rng.uniform(margin_y, height - 1 - margin_y)])
    angle = rng.uniform(0.0, 2.0 * np.pi)
    velocity = speed * np.array([np.cos(angle), np.sin(angle)])
    t = np.arange(frames, dtype=np.float64)[:, None]
    path = start + velocity * t + smooth_wobble(rng, frames, wobble, count=2).T
    path[:, 0] = reflect(path[:, 0], margin_x, width - 1.0 - margin_x)
    path[:, 1] = reflect(path[:, 1], margin_y, height - 1.0 - margin_y)
    return path


def film_tones(rng: np.random.Generator, count: int, dark_probability: float) -> np.ndarray:
    """Grey levels of film dirt: dark 6-70 (dust on the print) or bright 185-252 (emulsion loss).

    One uniform draw per element decides both the polarity and the level (cheap for the
    thousands of dust specks of a clip).
    """
    u = rng.random(count)
    dark = u < dark_probability
    levels = np.where(
        dark,
        6.0 + 64.0 * (u / dark_probability),
        185.0 + 67.0 * ((u - dark_probability) / (1.0 - dark_probability)),
    )
    return levels.astype(np.uint8)


def irregular_polygons(rng: np.random.Generator, radii: np.ndarray, vertices: int = 14) -> np.ndarray:
    """Star-shaped outlines ``[N, V, 2]`` around the origin with lumpy, dirt-like borders.

    Each outline's radius follows three random low harmonics plus per-vertex jitter; all
    ``N`` outlines are drawn at once (blotches come by the dozen).
    """
    radii = np.asarray(radii, dtype=np.float64).reshape(-1, 1)
    count = radii.shape[0]
    step = 2.0 * np.pi / vertices
    theta = np.arange(vertices) * step + rng.uniform(-0.2, 0.2, (count, vertices)) * step
    harmonics = np.arange(1, 4)[None, :, None]
    amplitudes = rng.uniform(0.0, 0.28, (count, 3, 1)) / harmonics
    phases = rng.uniform(0.0, 2.0 * np.pi, (count, 3, 1))
    profile = 1.0 + (amplitudes * np.cos(harmonics * theta[:, None, :] + phases)).sum(axis=1)
    profile *= rng.uniform(0.85, 1.15, (count, vertices))
    r = radii * np.clip(profile, 0.25, None)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)


def filter_frames(stack: np.ndarray, filter_2d: Callable[[np.ndarray], np.ndarray], reach: int) -> np.ndarray:
    """Apply a 2-D cv2 filter that looks ``reach`` pixels around each pixel to every frame.

    The frames are stacked into one tall image with ``reach`` zero rows between them, so a
    single cv2 call filters them all (one call per frame costs more in Python overhead) and
    no frame leaks into the next. ``filter_2d`` must treat the image border as zero too
    (``borderType=cv2.BORDER_CONSTANT``; dilation does by default), so every frame edge is
    handled alike.
    """
    frames, height, width = stack.shape
    tall = np.zeros((frames, height + reach, width), dtype=stack.dtype)
    tall[:, :height] = stack
    filtered = filter_2d(tall.reshape(frames * (height + reach), width))
    return filtered.reshape(frames, height + reach, width)[:, :height]


def stamp_static(canvas: np.ndarray, frame_tone: np.ndarray) -> None:
    """Copy one frame's tones onto every frame of ``canvas`` (a mask that does not move)."""
    where = frame_tone > 0
    canvas[:, where] = frame_tone[where]


def draw_dot(canvas_2d: np.ndarray, center_xy: np.ndarray, tone: int) -> None:
    """Smallest element: one pixel, so a tiny coverage request still draws something."""
    x, y = (int(round(v)) for v in center_xy)
    height, width = canvas_2d.shape
    canvas_2d[min(max(y, 0), height - 1), min(max(x, 0), width - 1)] = tone
