"""The one rule that turns mask pixels into damaged / intact.

A mask pixel is first reduced to one level (0-255), then compared with the mask's threshold.

- Grey masks: the level is the grey value. Colour masks: the brightest channel, not the
  luma: a pure red stroke painted on black (luma 76) must count as damage as surely as a
  white one. A pixel with an alpha channel below :data:`MASK_THRESHOLD` is level 0 (never
  damaged), whatever colour it stores, since editors keep arbitrary colours under
  transparency.
- A pixel is damaged when its level is at least :data:`MASK_THRESHOLD` (128), so
  anti-aliased edges and compression noise around 0 and 255 fall on the intended side.
- Label masks: a mask in which some pixel is marked but none reaches 128 anywhere (the 0/1
  arrays saved as images by most segmentation and inpainting code, or small object ids) is
  read as the field's tools read every mask: any non-zero level is damaged
  (:data:`LABEL_THRESHOLD`). Which rule applies is a property of the whole mask, never of a
  frame, so a frame of faint compression noise in a white-on-black mask video stays intact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

MASK_THRESHOLD = 128
"""Level from which a mask pixel counts as damaged (``>=``)."""

LABEL_THRESHOLD = 1
"""Level from which a pixel of a label mask (nothing at 128 or above) counts as damaged."""


def levels_from_grey(grey: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """uint8 mask levels from uint8 grey values of any shape; ``alpha`` (same shape) is optional."""
    if alpha is None:
        return grey
    return np.where(alpha >= MASK_THRESHOLD, grey, np.uint8(0))


def levels_from_colour(colour: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """uint8 mask levels from uint8 colour pixels ``[..., C]`` (any channel order): brightest channel."""
    return levels_from_grey(colour.max(axis=-1), alpha)


@dataclass(frozen=True)
class MaskRule:
    """How a whole mask is read: its threshold, and whether it marks any pixel at all."""

    threshold: int
    marks_damage: bool


def mask_rule(levels: Iterable[np.ndarray]) -> MaskRule:
    """The rule for a whole mask given its frames' levels: :data:`MASK_THRESHOLD`, or
    :data:`LABEL_THRESHOLD` when some level is non-zero but none reaches 128.

    Stops reading at the first frame that reaches 128, so a mask that marks damage early
    costs one frame; a label mask or an empty one is read to its end.
    """
    marked = False
    for frame_levels in levels:
        peak = int(frame_levels.max(initial=0))
        if peak >= MASK_THRESHOLD:
            return MaskRule(MASK_THRESHOLD, marks_damage=True)
        marked = marked or peak > 0
    return MaskRule(LABEL_THRESHOLD if marked else MASK_THRESHOLD, marks_damage=marked)


def damaged(levels: np.ndarray, threshold: int = MASK_THRESHOLD) -> np.ndarray:
    """Bool mask (True = damaged) from uint8 mask levels."""
    return levels >= threshold
