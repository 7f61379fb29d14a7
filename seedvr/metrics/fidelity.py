"""Per-frame fidelity metrics: PSNR, SSIM (both optionally inside the mask), MS-SSIM, VIF.

Inputs are ``uint8`` videos ``[T, H, W, 3]`` (and ``bool`` masks ``[T, H, W]``); every
function returns a plain float.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skimage.metrics import structural_similarity
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure,
    visual_information_fidelity,
)

from seedvr.errors import SeedVRError
from seedvr.metrics._inputs import check_damage_mask, to_unit_tensor
from seedvr.video_contract import check_videos_alike

# Identical inputs have an infinite PSNR; a finite cap keeps averages, tables and MLflow
# (which rejects inf) usable. 100 dB is far above anything a real repair reaches (an MSE of
# 6.5e-6 grey levels squared), so the cap never hides a difference between real results.
PSNR_CAP_DB = 100.0

# Wang, Simoncelli & Bovik (2003): weights of the 5 scales of MS-SSIM.
MS_SSIM_BETAS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

# torchmetrics' VIF-P runs a 17-tap filter over 4 scales and refuses frames under 41x41.
VIF_MIN_SIDE = 41


def psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB (peak 255) of the whole clip, capped at :data:`PSNR_CAP_DB`.

    The squared error is pooled over every pixel and channel of every frame (inside ``mask``
    when given) before the log, so frames with few masked pixels weigh what their pixels
    weigh and a frame without masked pixels does not make the value undefined.
    """
    check_videos_alike(pred, target)
    error = (pred.astype(np.float64) - target.astype(np.float64)) ** 2
    if mask is not None:
        error = error[check_damage_mask(mask, pred)]
    mse = float(error.mean())
    if mse == 0.0:
        return PSNR_CAP_DB
    return min(10.0 * math.log10(255.0**2 / mse), PSNR_CAP_DB)


def _ssim_settings(height: int, width: int) -> dict:
    """Wang et al.'s settings (11-tap Gaussian, sigma 1.5), or a uniform window for tiny frames."""
    smallest = min(height, width)
    if smallest >= 11:
        return {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
    window = smallest if smallest % 2 == 1 else smallest - 1
    if window < 3:
        raise SeedVRError(f"frames of {height}x{width} are too small for SSIM (need at least 3x3)")
    return {"win_size": window, "use_sample_covariance": False}


def ssim(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Structural similarity (data range 255, RGB channels averaged), mean over frames.

    Without ``mask``: the usual mean SSIM of each frame (scikit-image, border of half a
    window excluded), averaged over frames. With ``mask``: the SSIM map (windows centred on
    each pixel, reflect padding at the frame border) averaged over the masked pixels of the
    whole clip. Frames under 11 px use a uniform window of the largest odd size that fits.
    """
    check_videos_alike(pred, target)
    settings = _ssim_settings(*pred.shape[1:3])
    if mask is None:
        scores = [structural_similarity(p, t, channel_axis=2, data_range=255, **settings) for p, t in zip(pred, target)]
        return float(np.mean(scores))
    mask = check_damage_mask(mask, pred)
    total, count = 0.0, 0
    for p, t, m in zip(pred, target, mask):
        if not m.any():
            continue
        _, full_map = structural_similarity(p, t, channel_axis=2, data_range=255, full=True, **settings)
        total += float(full_map.mean(axis=2)[m].sum())
        count += int(m.sum())
    return total / count


def ms_ssim_settings(height: int, width: int) -> tuple[tuple[float, ...], int, float]:
    """``(betas, kernel_size, sigma)`` for MS-SSIM on frames of this size.

    torchmetrics needs the short side to exceed ``(kernel - 1) * (scales - 1)**2`` (176 px
    for the standard 5 scales and 11-tap window). Smaller frames keep the standard 11-tap
    window (sigma 1.5) and drop the coarsest scales, using the first ``n`` standard betas
    renormalised to sum to 1 (so identical frames still score exactly 1); only frames too
    small even for 1 scale shrink the window (7, 5, 3 taps, sigma scaled with it).
    """
    smallest = min(height, width)
    for kernel, sigma in ((11, 1.5), (7, 6 / 7), (5, 4 / 7), (3, 2 / 7)):
        for scales in range(len(MS_SSIM_BETAS), 0, -1):
            if smallest >= 2**scales and smallest // max(1, scales - 1) ** 2 > kernel - 1:
                if scales == len(MS_SSIM_BETAS):
                    return MS_SSIM_BETAS, kernel, sigma
                head = MS_SSIM_BETAS[:scales]
                return tuple(beta / sum(head) for beta in head), kernel, sigma
    raise SeedVRError(f"frames of {height}x{width} are too small for MS-SSIM (need at least 3x3)")


def ms_ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Multi-scale SSIM (torchmetrics, data range 1), mean over frames.

    Standard 5 scales from 176 px up; fewer scales below (see :func:`ms_ssim_settings`).
    """
    check_videos_alike(pred, target)
    betas, kernel, sigma = ms_ssim_settings(*pred.shape[1:3])
    value = multiscale_structural_similarity_index_measure(
        to_unit_tensor(pred),
        to_unit_tensor(target),
        kernel_size=kernel,
        sigma=sigma,
        betas=betas,
        data_range=1.0,
    )
    return float(value)


def _to_255_tensor(video: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float()


def vif(pred: np.ndarray, target: np.ndarray) -> float:
    """Pixel-domain visual information fidelity (VIF-P, torchmetrics), mean over frames.

    Computed on 0-255 values (the noise variance ``sigma_n_sq = 2`` of Sheikh & Bovik is
    defined on that scale), channels averaged. 1 for identical frames, lower when
    information is lost, and it may exceed 1 for contrast enhancement. Returns ``nan`` when
    a side is under 41 px (the metric's 4-scale filters do not fit) or when the target is
    completely flat (no information to preserve: 0/0).
    """
    check_videos_alike(pred, target)
    if min(pred.shape[1:3]) < VIF_MIN_SIDE:
        return float("nan")
    value = visual_information_fidelity(_to_255_tensor(pred), _to_255_tensor(target), sigma_n_sq=2.0)
    return float(value)
