"""Per-frame quality series of one repaired clip: PSNR inside the mask and masked warping error.

The clip-level metrics (:func:`seedvr.metrics.compute_all`) say how good a method is on
average; these series show *where* in a clip it fails (a flickering frame, a frame where the
hole is large), and are what ``per_frame.csv`` and the per-frame plots draw.

Definitions, for a clip of ``T`` frames:

``psnr_mask[t]``
    PSNR (peak 255, capped at :data:`seedvr.metrics.PSNR_CAP_DB`) over the damaged pixels of
    frame ``t`` and their three channels. ``nan`` when frame ``t`` has no damaged pixel.

``ewarp_frame[t]`` (units of 1e-3, like the clip-level ``ewarp``)
    The masked warping error between frame ``t`` and frame ``t+1`` of the output ``O``
    (:func:`seedvr.metrics.warping_errors_in_mask`; the clip-level ``ewarp_mask`` is the mean
    of these pairs)::

        sum_p R_t(p) ||O_t(p) - warp(O_{t+1})(p)||^2 / sum_p R_t(p)  x 1000

    with ``warp`` sampling frame ``t+1`` at ``p + F_t(p)`` along the ground-truth flow
    ``F_t`` (t -> t+1), pixel values in [0, 1], ``||.||^2`` summed over RGB. The region
    ``R_t`` is the repaired region seen from frame ``t``: pixels damaged in frame ``t`` or
    whose match in frame ``t+1`` is damaged, restricted to non-occluded pixels
    (:func:`seedvr.metrics.repaired_region`), or the whole repaired region when every
    pixel of it is occluded. Outside the mask every method returns the input's pixels, so
    only the repaired region tells methods apart. ``nan`` for the last frame (no ``t+1``)
    and when neither frame has damaged pixels.
"""

from __future__ import annotations

import numpy as np

from seedvr.metrics.fidelity import psnr
from seedvr.metrics.temporal import VideoFlows, warping_errors_in_mask


def psnr_mask_per_frame(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``float64 [T]``: PSNR inside each frame's mask (``nan`` for a frame without damage)."""
    values = np.full(pred.shape[0], np.nan)
    for t in np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1)):
        values[t] = psnr(pred[t : t + 1], target[t : t + 1], mask[t : t + 1])
    return values


def ewarp_per_frame(pred: np.ndarray, mask: np.ndarray, target_flows: VideoFlows) -> np.ndarray:
    """``float64 [T]``: masked warping error between frames ``t`` and ``t+1`` (x1e-3), see module doc.

    The pairs of :func:`seedvr.metrics.warping_errors_in_mask` (the clip's ``ewarp_mask`` is
    their mean), with ``nan`` appended for the last frame.
    """
    values = np.full(pred.shape[0], np.nan)
    values[: pred.shape[0] - 1] = warping_errors_in_mask(pred, mask, target_flows)
    return values
