"""Film scratches: thin near-vertical lines that stay for the whole clip and drift sideways.

A scratch is cut into the film along its run through the projector, so it sits at nearly
the same place frame after frame, weaves a little with the film, waves gently along its
length and is either bright (cut into the emulsion of a negative) or dark (a print).
"""

from __future__ import annotations

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import film_tones, reflect, size_unit, smooth_wobble


class ScratchDamage(DamageKind):
    name = "scratch"
    style = PaintStyle(opacity=(0.75, 0.95), grain=18.0, colourful=False, edge_blur=3, takes_dye=True)
    allows_empty_frames = False

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        frames, height, width = canvas.shape
        unit = size_unit(height, width)
        # Scratches persist, so the per-frame area is the whole request. They stay thin
        # (1 to 3 px at 128 px): more damage means more scratches, not wider ones. Widths
        # are whole pixels, so the request is split into whole columns of scratch.
        area = coverage * height * width
        max_width = max(1, int(round(3.0 * unit)))
        columns = area / height
        if columns < 1.0:  # a small request: one short, 1 px scratch
            line_width = np.ones(1, np.int64)
            row_count = np.array([min(max(1, int(round(area))), height)])
        else:
            wanted = int(round(columns))
            candidates = rng.integers(1, max_width + 1, wanted)
            count = int(np.searchsorted(np.cumsum(candidates), wanted)) + 1
            line_width = candidates[:count].copy()
            line_width[-1] -= int(line_width.sum()) - wanted  # the last one makes the total exact
            row_count = np.full(count, height)
        count = line_width.size
        top = np.floor(rng.random(count) * (height - row_count + 1)).astype(np.int64)
        rows = np.arange(height)
        on_scratch = (rows >= top[:, None]) & (rows < (top + row_count)[:, None])  # [n, H]

        wavelength = rng.uniform(0.6, 2.5, (count, 1)) * height
        wave = rng.uniform(0.2, 1.5, (count, 1)) * unit * np.sin(
            2.0 * np.pi * rows / wavelength + rng.uniform(0, 2 * np.pi, (count, 1))
        ) + rng.normal(0.0, 0.02, (count, 1)) * (rows - top[:, None])
        t = np.arange(frames, dtype=np.float64)
        velocity = rng.normal(0.0, 0.3 * unit, (count, 1))
        wander = smooth_wobble(rng, frames, 1.0, count=count) * rng.uniform(0.3, 1.5, (count, 1)) * unit
        drift = velocity * t + wander
        weave = rng.normal(0.0, 0.2 * unit, (count, frames))  # film weave: small frame-to-frame jitter
        x0 = rng.uniform(0.0, width - 1.0, (count, 1, 1))
        centres = reflect(x0 + (drift + weave)[:, :, None] + wave[:, None, :], 0.0, width - 1.0)  # [n, T, H]

        tones = film_tones(rng, count, dark_probability=0.4).astype(np.float64)
        flicker = np.clip(tones[:, None] + rng.normal(0.0, 6.0, (count, frames)), 1, 255).astype(np.uint8)

        # A near-vertical line is a horizontal run of ``line_width`` pixels on every row:
        # scatter each scratch's centre pixels for all frames at once, then widen them with
        # a horizontal dilation (which never crosses rows, hence never crosses frames).
        centre_columns = np.rint(centres).astype(np.int64)
        row_starts = (t.astype(np.int64)[:, None] * height + rows[None, :]) * width  # [T, H]
        flat = canvas.reshape(-1)
        for widths in np.unique(line_width):
            chosen = line_width == widths
            on = np.broadcast_to(on_scratch[chosen][:, None, :], (int(chosen.sum()), frames, height))
            index = (row_starts[None] + centre_columns[chosen])[on]
            values = np.broadcast_to(flicker[chosen][:, :, None], on.shape)[on]
            if widths == 1:
                flat[index] = values
                continue
            layer = np.zeros(canvas.size, np.uint8)
            layer[index] = values
            # Anchored at the middle of the kernel: the run is centred on the scratch.
            kernel = np.ones((1, int(widths)), np.uint8)
            widened = cv2.dilate(layer.reshape(-1, width), kernel, anchor=(int(widths) // 2, 0))
            np.maximum(flat, widened.reshape(-1), out=flat)
        return count
