"""Repair quality metrics on ``uint8 [T, H, W, 3]`` videos and ``bool [T, H, W]`` masks.

Directions: higher is better for psnr*, ssim*, ms_ssim, vif; lower is better for ewarp,
ewarp_mask, tof, flicker and lpips. See each function for its exact definition and scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seedvr.metrics._inputs import check_damage_mask
from seedvr.metrics.fidelity import PSNR_CAP_DB, ms_ssim, ms_ssim_settings, psnr, ssim, vif
from seedvr.metrics.lpips import lpips, lpips_available
from seedvr.metrics.temporal import (
    flicker,
    non_occluded_mask,
    repaired_region,
    tof,
    warping_error,
    warping_error_in_mask,
    warping_errors_in_mask,
)
from seedvr.ops.flow import estimate_video_flows
from seedvr.video_contract import check_videos_alike

METRIC_KEYS: tuple[str, ...] = (
    "psnr_mask",
    "ssim_mask",
    "psnr",
    "ssim",
    "ms_ssim",
    "vif",
    "ewarp",
    "ewarp_mask",
    "tof",
    "flicker",
)
HIGHER_IS_BETTER: dict[str, bool] = {
    "psnr_mask": True,
    "ssim_mask": True,
    "psnr": True,
    "ssim": True,
    "ms_ssim": True,
    "vif": True,
    "ewarp": False,
    "ewarp_mask": False,
    "tof": False,
    "flicker": False,
    "lpips": False,
}


def compute_all(
    pred: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    vgg16_weights: str | Path | None = None,
    target_flows: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, float]:
    """Every metric of :data:`METRIC_KEYS` for one clip (``ewarp`` and ``ewarp_mask`` in units of 1e-3).

    ``ewarp`` is the warping error over the whole frame, ``ewarp_mask`` the same error
    inside the repaired region only (:func:`warping_error_in_mask`). The ground-truth flows
    are estimated once (or passed as ``target_flows``, ``estimate_video_flows(target)``) and
    shared by ``ewarp``, ``ewarp_mask`` and ``tof``. When ``vgg16_weights`` points at a local
    torchvision VGG16 file, ``lpips`` is added too; otherwise the key is absent and reports
    should say "not computed".
    """
    check_videos_alike(pred, target)
    mask = check_damage_mask(mask, pred)
    if target_flows is None and pred.shape[0] > 1:
        target_flows = estimate_video_flows(target)
    results = {
        "psnr_mask": psnr(pred, target, mask),
        "ssim_mask": ssim(pred, target, mask),
        "psnr": psnr(pred, target),
        "ssim": ssim(pred, target),
        "ms_ssim": ms_ssim(pred, target),
        "vif": vif(pred, target),
        "ewarp": warping_error(pred, target, target_flows=target_flows),
        "ewarp_mask": warping_error_in_mask(pred, target, mask, target_flows=target_flows),
        "tof": tof(pred, target, target_forward=None if target_flows is None else target_flows[0]),
        "flicker": flicker(pred, target),
    }
    lpips_value = lpips(pred, target, vgg16_weights)
    if lpips_value is not None:
        results["lpips"] = lpips_value
    return results


__all__ = [
    "HIGHER_IS_BETTER",
    "METRIC_KEYS",
    "PSNR_CAP_DB",
    "compute_all",
    "flicker",
    "lpips",
    "lpips_available",
    "ms_ssim",
    "ms_ssim_settings",
    "non_occluded_mask",
    "psnr",
    "repaired_region",
    "ssim",
    "tof",
    "vif",
    "warping_error",
    "warping_error_in_mask",
    "warping_errors_in_mask",
]
