"""Rectangles around the true pixels of a mask, with a margin of context: where to work.

Cropping a repair to the damage (:mod:`seedvr.engine.crops`) and running the pipeline's
full-resolution refinement only near the holes (:class:`seedvr.pipeline.SeedVRPipeline`) both
need the same plan: the mask grown by a margin (a square dilation: holes closer than twice
the margin share a rectangle, far-apart holes keep their own), the bounding box of each grown
region, sides rounded up to a grid, and overlapping boxes merged until every true pixel lies
in exactly one rectangle, always with its full margin (except at the image's edges).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from seedvr.errors import SeedVRError

#: Above this share of the frame's area, repairing in crops around the holes is not worth it
#: (each crop pays its own border, and context is lost at its edges): repair the whole frame.
#: The pipeline's refinement, which loses no context, has its own ``REFINE_WHOLE_AREA``.
WHOLE_FRAME_AREA = 0.6


@dataclass(frozen=True)
class Crop:
    """A rectangle of the frame: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def area(self) -> int:
        return self.height * self.width

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def overlaps(self, other: Crop) -> bool:
        rows = self.top < other.bottom and other.top < self.bottom
        return rows and self.left < other.right and other.left < self.right

    def union(self, other: Crop) -> Crop:
        top, left = min(self.top, other.top), min(self.left, other.left)
        return Crop(top, left, max(self.bottom, other.bottom) - top, max(self.right, other.right) - left)


def _aligned_span(start: int, length: int, limit: int, align: int) -> tuple[int, int]:
    """``[start, start+length)`` grown around its centre to a multiple of ``align`` and kept
    inside ``[0, limit)``; the whole ``limit`` when the aligned length does not fit."""
    wanted = -(-length // align) * align
    if wanted >= limit:
        return 0, limit
    start -= (wanted - length) // 2
    start = min(max(start, 0), limit - wanted)
    return start, wanted


def _aligned(crop: Crop, height: int, width: int, align: int) -> Crop:
    top, crop_h = _aligned_span(crop.top, crop.height, height, align)
    left, crop_w = _aligned_span(crop.left, crop.width, width, align)
    return Crop(top, left, crop_h, crop_w)


def plan_regions(union: np.ndarray, margin: int, align: int = 1) -> list[Crop]:
    """Disjoint rectangles holding every true pixel of ``union [H, W]`` with at least ``margin``
    pixels around it (less only at the image's edges), sides a multiple of ``align`` or the
    image's whole side, sorted top to bottom then left to right. Empty when nothing is true."""
    if margin < 0 or align < 1:
        raise SeedVRError(f"regions need margin >= 0 and align >= 1, got {margin} and {align}")
    union = np.asarray(union, dtype=bool)
    if union.ndim != 2:
        raise SeedVRError(f"a region plan needs a [H, W] mask, got shape {union.shape}")
    height, width = union.shape
    if not union.any():
        return []
    grown = union.astype(np.uint8)
    if margin:
        # A rectangular kernel: OpenCV dilates row then column, cheap even for 4K frames.
        grown = cv2.dilate(grown, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    crops = [_aligned(Crop(int(y), int(x), int(h), int(w)), height, width, align) for x, y, w, h, _ in stats[1:count]]
    # Aligning can make neighbours overlap (and an L-shaped region's box can cover another's):
    # merge until the crops are disjoint, so each hole pixel is repaired in exactly one crop.
    merged = True
    while merged:
        merged = False
        for i in range(len(crops)):
            for j in range(i + 1, len(crops)):
                if crops[i].overlaps(crops[j]):
                    crops[i] = _aligned(crops[i].union(crops[j]), height, width, align)
                    del crops[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(crops, key=lambda crop: (crop.top, crop.left))
