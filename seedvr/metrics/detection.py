"""Per-pixel scores of a detected damage mask against the true one, with a small tolerance.

Damage edges are soft (painted with a fall-off, then compressed), so where exactly a speck
ends is a matter of one pixel either way. As issue 13's target says, precision and recall are
counted with ``tolerance`` pixels of slack: a flagged pixel is right when it lies within
``tolerance`` of true damage, a damaged pixel is found when a flagged pixel lies within
``tolerance`` of it. IoU is strict (no slack), the harder and more familiar figure. The
target: recall >= 0.9 and precision >= 0.8 for scratch, blotch and dust (tolerance 1), and
under 0.1 % of pixels flagged on clean clips (:attr:`DetectionScores.flagged_fraction`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from seedvr.errors import SeedVRError

#: Pixels of slack in :func:`detection_scores` unless a caller says otherwise.
DEFAULT_TOLERANCE = 1


@dataclass(frozen=True)
class DetectionScores:
    """Pixel counts and scores of one comparison; ``nan`` where a ratio has nothing to count."""

    precision: float
    recall: float
    iou: float
    flagged_fraction: float
    flagged: int
    damaged: int
    pixels: int

    def to_dict(self) -> dict:
        return asdict(self)


def _grow(masks: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return masks
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return np.stack([cv2.dilate(mask.view(np.uint8), kernel) > 0 for mask in masks])


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def detection_scores(predicted: np.ndarray, truth: np.ndarray, tolerance: int = DEFAULT_TOLERANCE) -> DetectionScores:
    """Scores of ``predicted`` against ``truth`` (both bool ``[T, H, W]`` or ``[H, W]``, True = damage).

    Precision: share of flagged pixels within ``tolerance`` of true damage. Recall: share of
    damaged pixels within ``tolerance`` of a flagged pixel. IoU: strict intersection over
    union. ``flagged_fraction``: flagged pixels over all pixels (the false-positive rate on a
    clean clip).
    """
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape or predicted.ndim not in (2, 3):
        raise SeedVRError(f"masks must share a [T, H, W] or [H, W] shape, got {predicted.shape} and {truth.shape}")
    if tolerance < 0:
        raise SeedVRError(f"tolerance must be >= 0 pixels, got {tolerance}")
    predicted = np.ascontiguousarray(predicted != 0).reshape(-1, *predicted.shape[-2:])
    truth = np.ascontiguousarray(truth != 0).reshape(-1, *truth.shape[-2:])
    flagged, damaged = int(predicted.sum()), int(truth.sum())
    near_truth = int(np.count_nonzero(predicted & _grow(truth, tolerance)))
    found = int(np.count_nonzero(truth & _grow(predicted, tolerance)))
    union = int(np.count_nonzero(predicted | truth))
    overlap = int(np.count_nonzero(predicted & truth))
    return DetectionScores(
        precision=_ratio(near_truth, flagged),
        recall=_ratio(found, damaged),
        iou=_ratio(overlap, union),
        flagged_fraction=flagged / predicted.size,
        flagged=flagged,
        damaged=damaged,
        pixels=int(predicted.size),
    )
