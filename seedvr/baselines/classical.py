"""Classical video repair: per-frame OpenCV inpainting and flow propagation.

Every method takes ``frames uint8 [T, H, W, 3]`` and ``masks bool [T, H, W]`` (True =
damaged) and returns a repaired ``uint8 [T, H, W, 3]`` video equal to the input, byte for
byte, outside the mask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

import cv2
import numpy as np
import torch

from seedvr.errors import SeedVRError
from seedvr.ops.blending import BORDER_BLEND, Blend
from seedvr.ops.flow import PairFlowMemo
from seedvr.ops.fusion import fused_propagation
from seedvr.video_contract import check_video_and_masks

RepairMethod = Callable[[np.ndarray, np.ndarray], np.ndarray]

_OPENCV_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def inpaint_frames(
    frames: np.ndarray,
    masks: np.ndarray,
    method: Literal["telea", "ns"] = "telea",
    radius: int = 3,
) -> np.ndarray:
    """Inpaint each frame on its own with OpenCV (Telea or Navier-Stokes).

    Frames whose mask is empty are copied unchanged; pixels outside the mask are copied
    from the input exactly (OpenCV already leaves them alone; the copy makes it a guarantee).
    """
    masks = check_video_and_masks(frames, masks)
    if method not in _OPENCV_FLAGS:
        raise SeedVRError(f"unknown inpainting method {method!r}; choose from {sorted(_OPENCV_FLAGS)}")
    if radius < 1:
        raise SeedVRError(f"radius must be at least 1 pixel, got {radius}")
    repaired = frames.copy()
    for index in np.flatnonzero(masks.reshape(masks.shape[0], -1).any(axis=1)):
        hole = masks[index]
        filled = cv2.inpaint(frames[index], hole.astype(np.uint8), radius, _OPENCV_FLAGS[method])
        repaired[index][hole] = filled[hole]
    return repaired


def telea_repair(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per-frame OpenCV Telea (fast marching) inpainting."""
    return inpaint_frames(frames, masks, method="telea")


def navier_stokes_repair(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per-frame OpenCV Navier-Stokes inpainting."""
    return inpaint_frames(frames, masks, method="ns")


def propagate_repair(
    frames: np.ndarray,
    masks: np.ndarray,
    memo: PairFlowMemo | None = None,
    blend: Blend = BORDER_BLEND,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Known pixels carried along completed optical flow, fused over several flow hypotheses;
    a smooth fill for what no frame shows. This is exactly the guess the learned pipeline starts from,
    so ``seedvr`` against ``propagate`` measures what the learned stages add. ``memo``: see
    :func:`for_one_stream`; ``blend``: the gradient-domain blending's share
    (:func:`~seedvr.ops.fusion.fused_propagation`); ``device``: where the propagation runs."""
    return fused_propagation(frames, masks, memo=memo, blend=blend, device=device).guess


# Read-only: callers look methods up by the name given in params.yaml or on the command line.
CLASSICAL_METHODS: Mapping[str, RepairMethod] = MappingProxyType(
    {"telea": telea_repair, "ns": navier_stokes_repair, "propagate": propagate_repair}
)


def classical_method(name: str) -> RepairMethod:
    """The classical repair method called ``name``; an unknown name is a :class:`SeedVRError`."""
    if name not in CLASSICAL_METHODS:
        raise SeedVRError(f"unknown classical method {name!r}; choose from {sorted(CLASSICAL_METHODS)}")
    return CLASSICAL_METHODS[name]


def for_one_stream(method: RepairMethod, blend: Blend = BORDER_BLEND, device: torch.device | str | None = None) -> RepairMethod:
    """``method`` ready for one stream of overlapping windows (one video): ``propagate`` gets
    its own :class:`PairFlowMemo`, so the frame pairs two windows share are measured once;
    the result is the same, bit for bit, and ``blend`` (its blending's share) and ``device``
    (where it propagates). Other methods keep no state and are returned as is."""
    if method is not propagate_repair:
        return method
    memo = PairFlowMemo()
    return lambda frames, masks: propagate_repair(frames, masks, memo=memo, blend=blend, device=device)
