"""Object-shaped holes: silhouettes built from ellipses, walking along a smooth trajectory.

Object removal masks (DAVIS-style) are the outline of a moving thing: a body, a head,
limbs that swing. The silhouette is a union of ellipses whose limbs swing with time while
the whole shape travels, turns slightly and breathes in scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import FIXED, LINE, SHIFT, linear_path, smooth_wobble

# Side of the square used to measure a silhouette's area before scaling it to the request.
_PROBE = 64


@dataclass(frozen=True)
class Silhouette:
    """Ellipses in body units: ``parts[i] = (cx, cy, half_width, half_height, angle_deg)``;
    limbs (``swings[i] != 0``) rotate about their attachment point by ``swings`` degrees."""

    parts: np.ndarray
    swings: np.ndarray
    area: float  # in squared body units


def _random_silhouette(rng: np.random.Generator) -> Silhouette:
    body_half_height = rng.uniform(0.4, 0.7)
    side = rng.choice((-1.0, 1.0))
    parts = [(0.0, 0.0, 1.0, body_half_height, 0.0)]
    swings = [0.0]
    head = rng.uniform(0.3, 0.45)
    parts.append(
        (side * rng.uniform(0.9, 1.2), -body_half_height * rng.uniform(0.3, 0.9), head, head * rng.uniform(0.8, 1.1), 0.0)
    )
    swings.append(0.0)
    for x in np.linspace(-0.7, 0.7, int(rng.integers(2, 5))):
        limb_length = rng.uniform(0.35, 0.6)
        parts.append((x, body_half_height + limb_length * 0.8, rng.uniform(0.1, 0.18), limb_length, 0.0))
        swings.append(rng.uniform(10.0, 25.0) * rng.choice((-1.0, 1.0)))
    parts_array = np.array(parts, dtype=np.float64)
    swings_array = np.array(swings, dtype=np.float64)
    probe = np.zeros((_PROBE, _PROBE), np.uint8)
    scale = _PROBE / 5.0
    ellipses = _ellipses_over_time(
        parts_array, swings_array, np.zeros(1), np.full((1, 2), _PROBE / 2), np.full(1, scale), np.zeros(1)
    )
    _draw_ellipses(probe, *(per_frame[0] for per_frame in ellipses), tone=1)
    area = max(float(np.count_nonzero(probe)), 1.0) / scale**2
    return Silhouette(parts_array, swings_array, area)


def _ellipses_over_time(
    silhouette_parts: np.ndarray,
    swings: np.ndarray,
    stride: np.ndarray,
    centers: np.ndarray,
    scales: np.ndarray,
    headings_deg: np.ndarray,
) -> tuple[list, list, list]:
    """Every part's ellipse in every frame, computed at once for ``T`` frames and ``P`` parts.

    Returns fixed-point centres ``[T][P][2]``, axes ``[T][P][2]`` and angles ``[T][P]`` as
    Python lists, ready for ``cv2.ellipse``.
    """
    cx, cy, half_w, half_h, own_angle = silhouette_parts.T
    # A limb rotates about its top end (the hip) by swing * stride, like a leg in a stride.
    theta = np.radians(swings[None, :] * stride[:, None])  # [T, P]
    offset_x = cx - half_h * np.sin(theta)
    offset_y = (cy - half_h) + half_h * np.cos(theta)
    heading = np.radians(headings_deg)[:, None]
    cos_h, sin_h = np.cos(heading), np.sin(heading)
    scale = scales[:, None]
    x = centers[:, :1] + scale * (cos_h * offset_x - sin_h * offset_y)
    y = centers[:, 1:] + scale * (sin_h * offset_x + cos_h * offset_y)
    fixed_centers = np.rint(np.stack([x, y], axis=-1) * FIXED).astype(np.int64)
    axes = np.stack([scale * half_w, scale * half_h], axis=-1) * FIXED
    fixed_axes = np.maximum(np.rint(axes), FIXED // 2).astype(np.int64)
    angles = headings_deg[:, None] + own_angle[None, :] + np.degrees(theta)
    return fixed_centers.tolist(), fixed_axes.tolist(), angles.tolist()


def _draw_ellipses(image: np.ndarray, centers: list, axes: list, angles: list, tone: int) -> None:
    for center, axis, angle in zip(centers, axes, angles):
        cv2.ellipse(image, center, axis, angle, 0, 360, tone, -1, LINE, SHIFT)


class ObjectDamage(DamageKind):
    name = "object"
    style = PaintStyle(opacity=(0.95, 1.0), grain=28.0, colourful=True, edge_blur=3)
    allows_empty_frames = False

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        _, height, width = canvas.shape
        area = coverage * height * width  # objects stay in view: the request is per frame
        count = max(1 if rng.random() < 0.7 else 2, math.ceil(area / (0.45 * height * width)))
        for _ in range(count):
            self._draw_one(canvas, rng, area / count)
        return count

    @staticmethod
    def _draw_one(canvas: np.ndarray, rng: np.random.Generator, area: float) -> None:
        frames, height, width = canvas.shape
        short = min(height, width)
        silhouette = _random_silhouette(rng)
        scale = math.sqrt(area / silhouette.area)
        # The silhouette reaches about 1.3 body units from its centre.
        path = linear_path(
            rng, frames, height, width, speed=rng.uniform(0.005, 0.03) * short, wobble=0.03 * short, margin=1.3 * scale
        )
        heading = rng.uniform(-30.0, 30.0) + smooth_wobble(rng, frames, 8.0)[0]
        breathing = 1.0 + smooth_wobble(rng, frames, 0.05)[0]
        stride_period = rng.uniform(6.0, 16.0)
        stride = np.sin(2.0 * np.pi * np.arange(frames) / stride_period + rng.uniform(0, 2 * np.pi))
        tone = int(rng.integers(50, 211))
        centers, axes, angles = _ellipses_over_time(silhouette.parts, silhouette.swings, stride, path, scale * breathing, heading)
        for frame in range(frames):
            _draw_ellipses(canvas[frame], centers[frame], axes[frame], angles[frame], tone)
