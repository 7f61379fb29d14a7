"""The one rule that turns mask pixels into damaged / intact.

- Grey masks: a pixel is damaged when its level is at least :data:`MASK_THRESHOLD` (128), so
  anti-aliased edges and compression noise around 0 and 255 fall on the intended side.
- Colour masks are reduced to grey by taking the brightest channel, not the luma: a pure red
  stroke painted on black (luma 76) must count as damage as surely as a white one.
- Masks with an alpha channel: a transparent pixel (alpha below the threshold) is never
  damaged, whatever colour it stores, since editors keep arbitrary colours under transparency.
"""

from __future__ import annotations

import numpy as np

MASK_THRESHOLD = 128
"""Grey level from which a mask pixel counts as damaged (``>=``)."""


def mask_from_grey(grey: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Bool mask from uint8 grey levels of any shape; ``alpha`` (same shape) is optional."""
    damaged = grey >= MASK_THRESHOLD
    if alpha is not None:
        damaged &= alpha >= MASK_THRESHOLD
    return damaged


def mask_from_colour(colour: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Bool mask from uint8 colour pixels ``[..., C]`` (any channel order): brightest channel."""
    return mask_from_grey(colour.max(axis=-1), alpha)
