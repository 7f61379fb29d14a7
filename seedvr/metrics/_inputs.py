"""What the metrics add to the video contract: a masked metric needs damage; videos as tensors."""

from __future__ import annotations

import numpy as np
import torch

from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video_and_masks


def check_damage_mask(mask: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``pred``'s mask as ``bool [T, H, W]`` (the video contract), with at least one damaged pixel."""
    mask = check_video_and_masks(pred, mask, names=("pred", "mask"))
    if not mask.any():
        raise SeedVRError("mask has no damaged pixels, so a masked metric is undefined")
    return mask


def to_unit_tensor(video: np.ndarray) -> torch.Tensor:
    """``uint8 [T, H, W, 3]`` -> float32 ``[T, 3, H, W]`` in ``[0, 1]``."""
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 255.0
