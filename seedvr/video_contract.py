"""The in-memory video contract, checked in one place for every caller.

A video is a ``uint8 [T, H, W, 3]`` RGB numpy array with at least one frame; its masks are
``[T, H, W]``, ``bool`` or integer, non-zero = damaged. Flow, propagation, the classical
methods, the pipeline, the engine, the metrics and synthetic damage all take videos, and
check them here, so a wrong input fails the same way, in one sentence, wherever it enters.
(The networks' ``[B, T, C, H, W]`` tensors are another contract:
:mod:`seedvr.models.video_checks`.)
"""

from __future__ import annotations

import numpy as np

from seedvr.errors import SeedVRError


def check_video(video: np.ndarray, name: str = "frames") -> None:
    """Raise :class:`SeedVRError` unless ``video`` is a non-empty ``uint8 [T, H, W, 3]`` array."""
    if not isinstance(video, np.ndarray) or video.dtype != np.uint8:
        kind = video.dtype if isinstance(video, np.ndarray) else type(video).__name__
        raise SeedVRError(f"{name} must be a uint8 numpy array [T, H, W, 3], got {kind}")
    if video.ndim != 4 or video.shape[-1] != 3 or 0 in video.shape[:3]:
        raise SeedVRError(f"{name} must have shape [T, H, W, 3] with T, H, W >= 1, got {tuple(video.shape)}")


def check_video_and_masks(video: np.ndarray, masks: np.ndarray, names: tuple[str, str] = ("frames", "masks")) -> np.ndarray:
    """Check ``video`` and its ``masks``; return the masks as ``bool [T, H, W]`` (True = damaged).

    A float mask is refused rather than thresholded: a soft mask of 0.3 has no one reading.
    ``names`` are the caller's names for the two, used in the error.
    """
    video_name, masks_name = names
    check_video(video, video_name)
    masks = np.asarray(masks)
    if masks.dtype != np.bool_ and not np.issubdtype(masks.dtype, np.integer):
        raise SeedVRError(f"{masks_name} must be a bool or integer array [T, H, W] (non-zero = damaged), got {masks.dtype}")
    if masks.shape != video.shape[:3]:
        raise SeedVRError(
            f"{masks_name} shape {tuple(masks.shape)} does not match the [T, H, W] {tuple(video.shape[:3])} of {video_name}"
        )
    return masks.astype(bool, copy=False)


def check_videos_alike(first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("pred", "target")) -> None:
    """Raise :class:`SeedVRError` unless both are videos (:func:`check_video`) of the same shape."""
    for video, name in zip((first, second), names):
        check_video(video, name)
    if first.shape != second.shape:
        raise SeedVRError(f"{names[0]} shape {first.shape} differs from {names[1]} shape {second.shape}")
