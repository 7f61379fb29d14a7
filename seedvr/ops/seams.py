"""How well a fill continues the known pixels around it: the seam a wrong flow leaves.

A hole filled along the right motion continues the picture across its border; filled along
a wrong motion, it shows a seam there (FGVC makes the same observation to blend its fills in
the gradient domain). :class:`HoleBorders` measures that seam per hole pixel: the colour
difference between the fill and the known pixels just outside, on the hole's inner border,
spread over the hole by a normalised Gaussian so each hole pixel reads the seam of the border
nearest to it. Deep inside a wide hole, far from every border, the measure falls to zero for
every fill alike, so it decides nothing there.

A seam also reads the picture's own gradient across the border: an edge that meets the hole
looks like a seam to every fill. A propagation that also filled the ring of known pixels
around the hole (as if the hole were a pixel wider) says more: there it predicted pixels whose
true colour is known. :class:`RingPredictions` measures that prediction error per hole pixel,
spread over the hole the same way; a flow that carries the hole wrongly carries its ring wrongly
too, and an edge costs the right flow nothing.
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
        self.spread, self.shape = _checked_spread(spread), frames.shape
        self.weight = np.zeros(self.masks.shape, dtype=np.float32)
        # Per frame with a hole: the border pixels' rows and columns, and the mean colour of
        # their known 3x3 neighbours.
        self.borders: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for index in _frames_with_holes(self.masks):
            hole = self.masks[index].astype(np.uint8)
            known = 1 - hole
            border = hole & cv2.dilate(known, _NEIGHBOURHOOD)
            rows, cols = np.nonzero(border)
            known_weight = cv2.blur(known.astype(np.float32), (3, 3))[rows, cols]
            known_sum = cv2.blur(frames[index].astype(np.float32) * known[..., None], (3, 3))[rows, cols]
            self.borders[index] = (rows, cols, known_sum / np.maximum(known_weight, 1e-6)[:, None])
            self.weight[index] = cv2.GaussianBlur(border.astype(np.float32), (0, 0), spread)

    def mismatch(self, fill: np.ndarray) -> np.ndarray:
        """Seam of ``fill`` per pixel, ``float32 [T, H, W]`` in grey levels (0 outside the holes).

        On every border pixel, the mean absolute difference (over the colour channels) between
        ``fill`` and the known colour outside; spread over the hole, normalised by the border's
        own spread weight.
        """
        _check_fill(fill, self.shape)
        return _spread_over_holes(self.borders, fill, self.weight, self.masks, self.spread)


class RingPredictions:
    """The known pixels around a clip's holes that a propagation also filled (the ring), measured
    once so that many fills (the flow hypotheses) are judged by how well they predicted them.

    ``frames`` ``uint8 [T, H, W, 3]``, ``masks`` (bool ``[T, H, W]``, True = hole) and ``ring``
    (bool ``[T, H, W]``, known pixels only, as :func:`seedvr.ops.blending.border_ring` draws it);
    ``spread`` (pixels) is the Gaussian that carries a ring pixel's error into the hole.
    """

    def __init__(self, frames: np.ndarray, masks: np.ndarray, ring: np.ndarray, spread: float):
        self.masks = check_video_and_masks(frames, masks)
        ring = np.asarray(ring, dtype=bool)
        if ring.shape != self.masks.shape:
            raise SeedVRError(f"ring must have shape {self.masks.shape}, got {ring.shape}")
        if (ring & self.masks).any():
            raise SeedVRError("the ring must hold known pixels only, not hole pixels")
        self.spread, self.shape = _checked_spread(spread), frames.shape
        self.weight = np.zeros(self.masks.shape, dtype=np.float32)
        self.rings: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for index in _frames_with_holes(self.masks):
            rows, cols = np.nonzero(ring[index])
            self.rings[index] = (rows, cols, frames[index, rows, cols].astype(np.float32))
            self.weight[index] = cv2.GaussianBlur(ring[index].astype(np.float32), (0, 0), spread)

    def error(self, fill: np.ndarray) -> np.ndarray:
        """How far ``fill``'s ring is from the known pixels there, per hole pixel, ``float32
        [T, H, W]`` in grey levels (0 outside the holes): on every ring pixel the mean absolute
        difference over the colour channels, spread over the hole, normalised by the ring's own
        spread weight."""
        _check_fill(fill, self.shape)
        return _spread_over_holes(self.rings, fill, self.weight, self.masks, self.spread)


def _checked_spread(spread: float) -> float:
    if spread <= 0:
        raise SeedVRError(f"spread must be positive, got {spread}")
    return spread


def _frames_with_holes(masks: np.ndarray) -> list[int]:
    return [int(index) for index in np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1))]


def _check_fill(fill: np.ndarray, shape: tuple[int, ...]) -> None:
    if fill.shape != shape or fill.dtype != np.uint8:
        raise SeedVRError(f"fill must be uint8 {shape}, got {fill.dtype} {fill.shape}")


def _spread_over_holes(
    sites: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    fill: np.ndarray,
    weight: np.ndarray,
    masks: np.ndarray,
    spread: float,
) -> np.ndarray:
    """Per frame of ``sites`` (``{frame: (rows, cols, reference colours)}``), the mean absolute
    difference between ``fill`` and the references at the sites, spread by a Gaussian of
    ``spread`` px, divided by the sites' own spread ``weight`` and kept on the hole pixels."""
    spread_difference = np.zeros(masks.shape, dtype=np.float32)
    for index, (rows, cols, reference) in sites.items():
        difference = np.zeros(masks.shape[1:], dtype=np.float32)
        difference[rows, cols] = np.abs(fill[index, rows, cols].astype(np.float32) - reference).mean(axis=-1)
        frame_weight = weight[index]
        spread_difference[index] = (
            np.where(
                frame_weight > _MIN_BORDER_WEIGHT,
                cv2.GaussianBlur(difference, (0, 0), spread) / np.maximum(frame_weight, _MIN_BORDER_WEIGHT),
                0.0,
            )
            * masks[index]
        )
    return spread_difference
