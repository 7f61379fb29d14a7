"""Damage that leaves nothing of the picture under it: grey + noise under the whole mask, then
each kind's damage painted over it (as an opaque blotch or a deep scratch leaves a film frame).

The real-footage benchmark damages its clips this way, so no method can read the truth under a
mask (:mod:`seedvr.evaluate.real_footage`); the damage detector also trains on a share of clips
damaged this way (``detector.destroyed_share``), since such a hole shows its extent only by
grain that matches neither the picture nor the paint.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from seedvr.data.damage.base import PaintStyle
from seedvr.data.damage.paint import paint_damage

# The destroyed pixels: mid grey with noise, so no method can read the truth there and none
# is handed a flat area that some inpainting rule would happen to like.
FILL_GREY = 128.0
FILL_NOISE = 24.0
# The fill's own generator stream, apart from the one the masks were drawn from.
_FILL_STREAM = 1


def destroy_under_mask(
    clean: np.ndarray, mask: np.ndarray, layers: Iterable[tuple[str, PaintStyle, np.ndarray]], seed: int
) -> np.ndarray:
    """The damaged input: ``clean`` outside ``mask``; inside, grey + noise with each layer's
    damage ``(kind, style, tone canvas)`` painted over it. Only the mask, the layers and ``seed``
    decide the pixels inside, so they are identical for any ``clean`` (no true pixel leaks in)."""
    mask = np.asarray(mask, dtype=bool)
    rng = np.random.default_rng([seed, _FILL_STREAM])
    damaged = np.array(clean, dtype=np.uint8, order="C", copy=True)
    noise = rng.standard_normal((int(np.count_nonzero(mask)), 3), dtype=np.float32)
    damaged[mask] = np.clip(np.rint(FILL_GREY + FILL_NOISE * noise), 0, 255).astype(np.uint8)
    for _, style, canvas in layers:
        # paint_damage reads and writes only where the canvas is set, which lies inside the mask.
        paint_damage(damaged, canvas, rng, style)
    return damaged
