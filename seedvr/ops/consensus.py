"""Where one flow hypothesis disagrees with the others: its distance to their weighted median.

The fused propagation averages many hypotheses' fills of the same holes (:mod:`seedvr.ops.fusion`).
Most of them carry roughly the right motion; one that carries a moving object into a hole the
object has left puts a patch there that the others do not, and a mean keeps a faint copy of it.
A median keeps none. The median itself, taken pixel by pixel, switches between hypotheses from
frame to frame (the fill flickers), so the fusion keeps its weighted mean and only weighs each
hypothesis down by how far it strays from the median around each pixel and in the frames
around it.
"""

from __future__ import annotations

import cv2
import numpy as np

from seedvr.errors import SeedVRError

# Pixels per chunk of the median: its sort holds a few copies of every hypothesis' values, so a
# long window at 854x480 is taken a slice at a time (a few hundred MB at most).
_MEDIAN_CHUNK = 200_000

# Below this Gaussian weight of region pixels, a pixel has no region pixel near enough.
_MIN_REGION_WEIGHT = 1e-6


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per pixel and channel, the weighted median of ``values`` ``[N, P, C]`` (any real dtype)
    over its first axis (N hypotheses of P pixels), ``weights`` ``[N, P]`` non-negative with a positive sum per
    pixel: the smallest value whose cumulative weight reaches half the total. ``float32 [P, C]``."""
    weights = np.asarray(weights, dtype=np.float32)
    if values.ndim != 3 or weights.shape != values.shape[:2]:
        raise SeedVRError(f"values must be [N, P, C] and weights [N, P], got {values.shape} and {weights.shape}")
    if len(values) == 0:
        raise SeedVRError("a median needs at least one hypothesis")
    median = np.empty(values.shape[1:], dtype=np.float32)
    for start in range(0, values.shape[1], _MEDIAN_CHUNK):
        chunk = slice(start, start + _MEDIAN_CHUNK)
        part = values[:, chunk].astype(np.float32)
        order = np.argsort(part, axis=0, kind="stable")
        ranked = np.take_along_axis(part, order, axis=0)
        cumulative = np.cumsum(np.take_along_axis(np.broadcast_to(weights[:, chunk, None], part.shape), order, axis=0), axis=0)
        first_past_half = np.argmax(cumulative >= cumulative[-1:] / 2.0, axis=0)
        median[chunk] = np.take_along_axis(ranked, first_past_half[None], axis=0)[0]
    return median


def spread_within(values: np.ndarray, region: np.ndarray, spread: float) -> np.ndarray:
    """``values`` ``float32 [T, H, W]`` averaged over the ``region`` pixels (bool ``[T, H, W]``)
    around each region pixel by a normalised Gaussian of ``spread`` px, frame by frame; 0
    outside the region."""
    if spread <= 0:
        raise SeedVRError(f"spread must be positive, got {spread}")
    region = np.asarray(region, dtype=bool)
    if values.shape != region.shape:
        raise SeedVRError(f"values must have the region's shape {region.shape}, got {values.shape}")
    spread_values = np.zeros(region.shape, dtype=np.float32)
    for index in np.flatnonzero(region.reshape(len(region), -1).any(axis=1)):
        inside = region[index].astype(np.float32)
        total = cv2.GaussianBlur(np.where(region[index], values[index], 0.0).astype(np.float32), (0, 0), spread)
        weight = cv2.GaussianBlur(inside, (0, 0), spread)
        spread_values[index] = np.where(region[index], total / np.maximum(weight, _MIN_REGION_WEIGHT), 0.0)
    return spread_values
