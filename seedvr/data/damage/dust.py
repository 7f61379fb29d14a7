"""Dust: many small specks (and the odd hair) that change from frame to frame.

Specks are scattered as single pixels and grown with a morphological dilation per size
class, so hundreds of specks per frame cost a handful of vectorised calls.
"""

from __future__ import annotations

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import LINE, SHIFT, film_tones, filter_frames, size_unit, to_fixed

# Speck diameters at 128 px (scaled with the frame) and how often each size occurs.
_SPECK_DIAMETERS = (1.0, 3.0, 5.0)
_SPECK_WEIGHTS = (5.0, 3.0, 1.5)


def _speck_kernel(diameter: float, unit: float) -> np.ndarray:
    size = max(1, int(round(diameter * unit)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


class DustDamage(DamageKind):
    name = "dust"
    style = PaintStyle(opacity=(0.8, 1.0), grain=12.0, colourful=False, edge_blur=1)
    allows_empty_frames = False

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        frames, height, width = canvas.shape
        unit = size_unit(height, width)
        per_frame = coverage * height * width
        shares = rng.dirichlet(_SPECK_WEIGHTS)
        kernels = [_speck_kernel(d, unit) for d in _SPECK_DIAMETERS]
        counts = np.stack([rng.poisson(per_frame * share / kernel.sum(), frames) for share, kernel in zip(shares, kernels)])
        counts[0, counts.sum(axis=0) == 0] = 1  # dust never leaves a frame clean
        drawn = 0
        plane = height * width
        for kernel, per_class in zip(kernels, counts):
            total = int(per_class.sum())
            if total == 0:
                continue
            frame_of = np.repeat(np.arange(frames), per_class)
            seeds = np.zeros_like(canvas)
            seeds.reshape(-1)[frame_of * plane + rng.integers(0, plane, total)] = film_tones(rng, total, dark_probability=0.75)
            if kernel.shape[0] > 1:
                seeds = filter_frames(seeds, lambda image, k=kernel: cv2.dilate(image, k), reach=kernel.shape[0] // 2)
            np.maximum(canvas, seeds, out=canvas)
            drawn += total
        if per_frame > 40.0 * unit:
            drawn += self._draw_hairs(canvas, rng, unit)
        return drawn

    @staticmethod
    def _draw_hairs(canvas: np.ndarray, rng: np.random.Generator, unit: float) -> int:
        """Short curved fibres, about one every three frames."""
        frames, height, width = canvas.shape
        frame_of = np.repeat(np.arange(frames), rng.poisson(0.3, frames))
        count, steps = frame_of.size, 6
        if count == 0:
            return 0
        step = rng.uniform(6.0, 20.0, (count, 1)) * unit / steps
        heading = rng.uniform(0, 2 * np.pi, (count, 1)) + np.cumsum(rng.normal(0.0, 0.35, (count, steps)), axis=1)
        start = np.stack([rng.uniform(0, width - 1, count), rng.uniform(0, height - 1, count)], axis=-1)
        moves = step[..., None] * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
        paths = to_fixed(start[:, None, :] + np.cumsum(moves, axis=1))
        tones = film_tones(rng, count, dark_probability=0.75).tolist()
        for frame, path, tone in zip(frame_of.tolist(), paths, tones):
            cv2.polylines(canvas[frame], [path], False, tone, 1, LINE, SHIFT)
        return count
