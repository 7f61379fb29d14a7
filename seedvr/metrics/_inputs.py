"""Input checks shared by the metrics: one readable sentence for every wrong input."""

from __future__ import annotations

import numpy as np
import torch

from seedvr.errors import SeedVRError


def check_videos(pred: np.ndarray, target: np.ndarray) -> None:
    """Both must be ``uint8`` ``[T, H, W, 3]`` arrays of the same shape."""
    for name, video in (("pred", pred), ("target", target)):
        if not isinstance(video, np.ndarray) or video.dtype != np.uint8:
            raise SeedVRError(f"{name} must be a uint8 numpy video, got {getattr(video, 'dtype', type(video).__name__)}")
        if video.ndim != 4 or video.shape[-1] != 3:
            raise SeedVRError(f"{name} must be shaped [T, H, W, 3], got {video.shape}")
        if video.shape[0] == 0:
            raise SeedVRError(f"{name} has no frames")
    if pred.shape != target.shape:
        raise SeedVRError(f"pred shape {pred.shape} differs from target shape {target.shape}")


def check_mask(mask: np.ndarray, video: np.ndarray) -> np.ndarray:
    """A ``[T, H, W]`` mask matching ``video`` with at least one damaged pixel, as bool."""
    mask = np.asarray(mask)
    if mask.shape != video.shape[:3]:
        raise SeedVRError(f"mask shape {mask.shape} does not match the video's frames {video.shape[:3]}")
    mask = mask.astype(bool)
    if not mask.any():
        raise SeedVRError("mask has no damaged pixels, so a masked metric is undefined")
    return mask


def to_unit_tensor(video: np.ndarray) -> torch.Tensor:
    """``uint8 [T, H, W, 3]`` -> float32 ``[T, 3, H, W]`` in ``[0, 1]``."""
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 255.0
