"""How well a fill continues the known pixels around it: the seam a wrong flow leaves.

A hole filled along the right motion continues the picture across its border; filled along
a wrong motion, it shows a seam there (FGVC makes the same observation to blend its fills in
the gradient domain). :func:`border_mismatch` measures that seam per hole pixel: the colour
difference between the fill and the known pixels just outside, on the hole's inner border,
spread over the hole by a normalised Gaussian so each hole pixel reads the seam of the border
nearest to it. Deep inside a wide hole, far from every border, the measure falls to zero for
every fill alike, so it decides nothing there.
"""

from __future__ import annotations

import cv2
import numpy as np

from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video_and_masks

_NEIGHBOURHOOD = np.ones((3, 3), dtype=np.uint8)

# Below this Gaussian weight of border pixels, a hole pixel has no border near enough to judge.
_MIN_BORDER_WEIGHT = 1e-4


def border_mismatch(fill: np.ndarray, frames: np.ndarray, masks: np.ndarray, spread: float) -> np.ndarray:
    """Seam of ``fill`` per pixel, ``float32 [T, H, W]`` in grey levels (0 outside the holes).

    ``fill`` and ``frames`` are ``uint8 [T, H, W, 3]``: a candidate repair and the damaged
    input, whose pixels outside ``masks`` (bool ``[T, H, W]``, True = hole) are the known ones.
    On every hole pixel touching a known one, the mismatch is the mean absolute difference
    (over the colour channels) between the fill and the mean of its known 3x3 neighbours; it
    is then spread over the hole with a Gaussian of ``spread`` pixels, normalised by the
    border's own spread weight.
    """
    masks = check_video_and_masks(frames, masks)
    if fill.shape != frames.shape or fill.dtype != np.uint8:
        raise SeedVRError(f"fill must be uint8 {frames.shape}, got {fill.dtype} {fill.shape}")
    if spread <= 0:
        raise SeedVRError(f"spread must be positive, got {spread}")
    mismatch = np.zeros(masks.shape, dtype=np.float32)
    for index in np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1)):
        hole = masks[index].astype(np.uint8)
        known = 1 - hole
        border = (hole & cv2.dilate(known, _NEIGHBOURHOOD)).astype(np.float32)
        known_weight = cv2.blur(known.astype(np.float32), (3, 3))
        known_sum = cv2.blur(frames[index].astype(np.float32) * known[..., None], (3, 3))
        outside = known_sum / np.maximum(known_weight, 1e-6)[..., None]
        difference = np.abs(fill[index].astype(np.float32) - outside).mean(axis=-1) * border
        weight = cv2.GaussianBlur(border, (0, 0), spread)
        spread_difference = cv2.GaussianBlur(difference, (0, 0), spread)
        mismatch[index] = (
            np.where(weight > _MIN_BORDER_WEIGHT, spread_difference / np.maximum(weight, _MIN_BORDER_WEIGHT), 0.0) * hole
        )
    return mismatch
