"""Blotches: irregular patches of dirt or emulsion loss that last one or two frames.

Dirt on a print sits on one frame (sometimes two, when it sticks), so unlike scratches a
blotch does not follow the motion: some frames of a clip can be entirely clean.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import LINE, SHIFT, draw_dot, film_tones, irregular_polygons, to_fixed


class BlotchDamage(DamageKind):
    name = "blotch"
    style = PaintStyle(opacity=(0.8, 1.0), grain=30.0, colourful=False, edge_blur=3)
    allows_empty_frames = True

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        frames, height, width = canvas.shape
        # About a tenth of the area of blotches near the border falls outside the frame.
        total = 1.12 * coverage * frames * height * width
        max_radius = max(1.5, 0.2 * min(height, width))
        count = int(rng.integers(1, max(2, frames) + 1))
        mean_duration = 1.0 if frames == 1 else 1.5
        radius = math.sqrt(total / (count * mean_duration * math.pi))
        if radius > max_radius:
            count = math.ceil(total / (math.pi * max_radius**2 * mean_duration))
            radius = math.sqrt(total / (count * mean_duration * math.pi))
        tones = film_tones(rng, count, dark_probability=0.7).tolist()
        radii = radius * rng.uniform(0.7, 1.3, count)
        durations = np.minimum(rng.integers(1, 3, count), frames)
        firsts = np.floor(rng.random(count) * (frames - durations + 1)).astype(np.int64)
        centers = np.stack([rng.uniform(0, width - 1, count), rng.uniform(0, height - 1, count)], axis=-1)
        outlines = irregular_polygons(rng, radii)
        # A blotch that sticks for a second frame shifts and squashes slightly.
        second_shift = rng.normal(0.0, 0.4, (count, 2))
        second_scale = rng.uniform(0.9, 1.05, count)
        first_shapes = to_fixed(centers[:, None, :] + outlines)
        second_shapes = to_fixed(centers[:, None, :] + second_shift[:, None, :] + outlines * second_scale[:, None, None])
        for index in range(count):
            frame, tone = int(firsts[index]), tones[index]
            if radii[index] < 1.0:
                for offset in range(int(durations[index])):
                    draw_dot(canvas[frame + offset], centers[index], tone)
                continue
            cv2.fillPoly(canvas[frame], [first_shapes[index]], tone, LINE, SHIFT)
            if durations[index] == 2:
                cv2.fillPoly(canvas[frame + 1], [second_shapes[index]], tone, LINE, SHIFT)
        return count
