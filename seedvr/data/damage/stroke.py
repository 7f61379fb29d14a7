"""Free-form brush strokes that move smoothly, like the masks of video inpainting benchmarks.

The stroke shape follows the usual free-form recipe (a random walk of thick line segments
with round joints); over time the whole stroke glides along a smooth path and its vertices
sway a little, so the hole moves over the scene as in DAVIS / YouTube-VOS evaluations.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import LINE, SHIFT, linear_path, smooth_wobble, to_fixed


class StrokeDamage(DamageKind):
    name = "stroke"
    style = PaintStyle(opacity=(0.85, 1.0), grain=20.0, colourful=True, edge_blur=3)
    allows_empty_frames = False

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        _, height, width = canvas.shape
        area = coverage * height * width  # strokes persist: the request is per frame
        count = int(rng.integers(1, 4))
        for _ in range(count):
            self._draw_one(canvas, rng, area / count)
        return count

    @staticmethod
    def _draw_one(canvas: np.ndarray, rng: np.random.Generator, area: float) -> None:
        frames, height, width = canvas.shape
        short = min(height, width)
        thickness = max(1.0, rng.uniform(0.05, 0.12) * short)
        max_length = 1.5 * (height + width)
        # A stroke of length L covers about thickness * L plus its two round caps.
        caps = math.pi / 4.0 * thickness**2
        length = (area - caps) / thickness
        if length > max_length:  # a large request thickens the brush instead of lengthening
            thickness = min(area / max_length, 0.3 * short)
            length = area / thickness
        if length < thickness:  # a small request: a single dab of the brush
            thickness = max(1.0, math.sqrt(4.0 * area / math.pi))
            length = 0.0

        vertices = int(np.clip(round(length / (0.15 * short)) + 1, 2, 16))
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0.0, 0.7, vertices - 1))
        steps = (length / (vertices - 1)) * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
        shape = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
        shape -= shape.mean(axis=0)

        reach = float(np.abs(shape).max()) + thickness / 2.0
        anchor = linear_path(
            rng, frames, height, width, speed=rng.uniform(0.005, 0.025) * short, wobble=0.04 * short, margin=reach
        )
        sway = smooth_wobble(rng, frames, 0.03 * short, count=2 * vertices)  # [2V, T]
        sway = sway.T.reshape(frames, vertices, 2)
        polylines = to_fixed(anchor[:, None, :] + shape[None] + sway)

        tone = int(rng.integers(40, 231))
        line_width = max(1, int(round(thickness)))
        for frame in range(frames):
            cv2.polylines(canvas[frame], [polylines[frame]], False, tone, line_width, LINE, SHIFT)
