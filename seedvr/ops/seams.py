"""How well a fill continues the known pixels around it: the seam a wrong flow leaves.

A hole filled along the right motion continues the picture across its border; filled along
a wrong motion, it shows a seam there (FGVC makes the same observation to blend its fills in
the gradient domain). :class:`HoleBorders` measures that seam per hole pixel: the colour
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


class HoleBorders:
    """The inner borders of a clip's holes and the known colours just outside them, measured
    once so that many fills of the same holes (the flow hypotheses) are judged cheaply.

    ``frames`` ``uint8 [T, H, W, 3]`` is the damaged input, whose pixels outside ``masks``
    (bool ``[T, H, W]``, True = hole) are the known ones; ``spread`` (pixels) is the Gaussian
    that carries a border's seam into the hole. Memory: one float per pixel (the border's
    spread weight) and a few numbers per border pixel.
    """

    def __init__(self, frames: np.ndarray, masks: np.ndarray, spread: float):
        self.masks = check_video_and_masks(frames, masks)
        if spread <= 0:
            raise SeedVRError(f"spread must be positive, got {spread}")
        self.spread = spread
        self.shape = frames.shape
        self.weight = np.zeros(self.masks.shape, dtype=np.float32)
        # Per frame with a hole: the border pixels' rows and columns, and the mean colour of
        # their known 3x3 neighbours.
        self.borders: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for index in np.flatnonzero(self.masks.reshape(len(self.masks), -1).any(axis=1)):
            hole = self.masks[index].astype(np.uint8)
            known = 1 - hole
            border = hole & cv2.dilate(known, _NEIGHBOURHOOD)
            rows, cols = np.nonzero(border)
            known_weight = cv2.blur(known.astype(np.float32), (3, 3))[rows, cols]
            known_sum = cv2.blur(frames[index].astype(np.float32) * known[..., None], (3, 3))[rows, cols]
            self.borders[int(index)] = (rows, cols, known_sum / np.maximum(known_weight, 1e-6)[:, None])
            self.weight[index] = cv2.GaussianBlur(border.astype(np.float32), (0, 0), spread)

    def mismatch(self, fill: np.ndarray) -> np.ndarray:
        """Seam of ``fill`` per pixel, ``float32 [T, H, W]`` in grey levels (0 outside the holes).

        On every border pixel, the mean absolute difference (over the colour channels) between
        ``fill`` and the known colour outside; spread over the hole, normalised by the border's
        own spread weight.
        """
        if fill.shape != self.shape or fill.dtype != np.uint8:
            raise SeedVRError(f"fill must be uint8 {self.shape}, got {fill.dtype} {fill.shape}")
        seam = np.zeros(self.masks.shape, dtype=np.float32)
        for index, (rows, cols, outside) in self.borders.items():
            difference = np.zeros(self.masks.shape[1:], dtype=np.float32)
            difference[rows, cols] = np.abs(fill[index, rows, cols].astype(np.float32) - outside).mean(axis=-1)
            weight = self.weight[index]
            spread_difference = cv2.GaussianBlur(difference, (0, 0), self.spread)
            seam[index] = (
                np.where(weight > _MIN_BORDER_WEIGHT, spread_difference / np.maximum(weight, _MIN_BORDER_WEIGHT), 0.0)
                * self.masks[index]
            )
        return seam
