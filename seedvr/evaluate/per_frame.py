"""Per-frame quality series of one repaired clip: PSNR inside the mask and masked warping error.

The clip-level metrics (:func:`seedvr.metrics.compute_all`) say how good a method is on
average; these series show *where* in a clip it fails (a flickering frame, a frame where the
hole is large), and are what ``per_frame.csv`` and the per-frame plots draw.

Definitions, for a clip of ``T`` frames:

``psnr_mask[t]``
    PSNR (peak 255, capped at :data:`seedvr.metrics.PSNR_CAP_DB`) over the damaged pixels of
    frame ``t`` and their three channels. ``nan`` when frame ``t`` has no damaged pixel.

``ewarp_frame[t]`` (units of 1e-3, like the clip-level ``ewarp``)
    The masked warping error between frame ``t`` and frame ``t+1`` of the output ``O``::

        sum_p R_t(p) ||O_t(p) - warp(O_{t+1})(p)||^2 / sum_p R_t(p)  x 1000

    with ``warp`` sampling frame ``t+1`` at ``p + F_t(p)`` along the ground-truth flow
    ``F_t`` (t -> t+1), pixel values in [0, 1], ``||.||^2`` summed over RGB. The region
    ``R_t`` is the repaired region seen from frame ``t``: pixels damaged in frame ``t`` or
    whose match in frame ``t+1`` is damaged, restricted to non-occluded pixels
    (:func:`seedvr.metrics.non_occluded_mask`), or the whole repaired region when every
    pixel of it is occluded. Outside the mask every method returns the input's pixels, so
    only the repaired region tells methods apart. ``nan`` for the last frame (no ``t+1``)
    and when neither frame has damaged pixels.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from seedvr.metrics import PSNR_CAP_DB, non_occluded_mask
from seedvr.models.warp import backward_warp

VideoFlows = tuple[np.ndarray, np.ndarray]


def _image_tensor(image: np.ndarray) -> torch.Tensor:
    """``[H, W, C]`` (uint8 frame or float mask) -> float32 ``[1, C, H, W]``; frames scaled to [0, 1]."""
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0).float() / scale


def _flow_tensor(flow: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)


def psnr_mask_per_frame(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``float64 [T]``: PSNR inside each frame's mask (``nan`` for a frame without damage)."""
    values = np.full(pred.shape[0], np.nan)
    for t in range(pred.shape[0]):
        if not mask[t].any():
            continue
        error = (pred[t][mask[t]].astype(np.float64) - target[t][mask[t]].astype(np.float64)) ** 2
        mse = float(error.mean())
        values[t] = PSNR_CAP_DB if mse == 0.0 else min(10.0 * math.log10(255.0**2 / mse), PSNR_CAP_DB)
    return values


def ewarp_per_frame(pred: np.ndarray, mask: np.ndarray, target_flows: VideoFlows) -> np.ndarray:
    """``float64 [T]``: masked warping error between frames ``t`` and ``t+1`` (x1e-3), see module doc."""
    forward, backward = target_flows
    values = np.full(pred.shape[0], np.nan)
    for t in range(pred.shape[0] - 1):
        flow = _flow_tensor(forward[t])
        # A pixel whose match in frame t+1 lands in a hole was repaired there: it belongs in the region.
        next_hole, _ = backward_warp(_image_tensor(mask[t + 1][..., None].astype(np.float32)), flow)
        region = mask[t] | (next_hole[0, 0].numpy() > 0.0)
        if not region.any():
            continue
        trusted = region & non_occluded_mask(np.asarray(forward[t]), np.asarray(backward[t]))
        if trusted.any():
            region = trusted
        warped_next, _ = backward_warp(_image_tensor(pred[t + 1]), flow)
        squared = ((_image_tensor(pred[t]) - warped_next) ** 2).sum(dim=1)[0].numpy()
        values[t] = float(squared[region].mean()) * 1e3
    return values
