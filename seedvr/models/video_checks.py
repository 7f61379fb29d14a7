"""Shape checks shared by the video models, so a wrong-sized input fails with one clear sentence.

The networks' contract: ``[B, T, C, H, W]`` torch tensors. Videos as numpy arrays, before they
become tensors, are checked by :mod:`seedvr.video_contract`.
"""

from __future__ import annotations

import torch

from seedvr.errors import SeedVRError


def check_video_tensors(**tensors: torch.Tensor | None) -> tuple[int, int, int, int]:
    """Check that every given ``[B, T, C, H, W]`` tensor shares B, T, H and W; return them.

    ``None`` entries are skipped (optional inputs). Raises :class:`SeedVRError` naming the
    first tensor that disagrees with the first one given.
    """
    reference_name, reference = None, None
    for name, tensor in tensors.items():
        if tensor is None:
            continue
        if tensor.dim() != 5:
            raise SeedVRError(f"{name} must be a [B, T, C, H, W] tensor, got shape {tuple(tensor.shape)}.")
        if reference is None:
            reference_name, reference = name, tensor
            continue
        if tensor.shape[:2] != reference.shape[:2] or tensor.shape[3:] != reference.shape[3:]:
            raise SeedVRError(
                f"{name} has shape {tuple(tensor.shape)} but {reference_name} has {tuple(reference.shape)}; "
                "batch, frames, height and width must match."
            )
    if reference is None:
        raise SeedVRError("no video tensor was given.")
    b, t, _, h, w = reference.shape
    return b, t, h, w


def check_channels(name: str, tensor: torch.Tensor, channels: int) -> None:
    """Raise :class:`SeedVRError` unless ``tensor`` (``[B, T, C, H, W]``) has ``channels`` channels."""
    if tensor.shape[2] != channels:
        raise SeedVRError(f"{name} must have {channels} channel(s), got {tensor.shape[2]} (shape {tuple(tensor.shape)}).")
