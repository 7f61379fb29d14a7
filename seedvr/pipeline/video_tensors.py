"""Conversions between the on-disk video contract and the model's tensors.

Videos live as ``uint8 [T, H, W, 3]`` arrays and masks as ``bool [T, H, W]``; the model
works on float ``[B, T, C, H, W]`` tensors with images in [-1, 1] and masks in {0, 1}.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def frames_to_tensor(frames: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """``uint8 [T, H, W, 3]`` -> ``[1, T, 3, H, W]`` in [-1, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).to(device=device)
    return (tensor.permute(0, 3, 1, 2).to(dtype) / 127.5 - 1.0).unsqueeze(0)


def masks_to_tensor(masks: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """``bool [T, H, W]`` -> ``[1, T, 1, H, W]`` in {0, 1}."""
    return torch.from_numpy(np.ascontiguousarray(masks)).to(device=device, dtype=dtype)[None, :, None]


def tensor_to_frames(tensor: torch.Tensor) -> np.ndarray:
    """``[T, 3, H, W]`` or ``[1, T, 3, H, W]`` in [-1, 1] -> ``uint8 [T, H, W, 3]`` (rounded)."""
    if tensor.dim() == 5:
        tensor = tensor[0]
    scaled = ((tensor.detach().float().clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def flows_to_tensor(forward_flows: np.ndarray, device=None, dtype=torch.float32) -> torch.Tensor:
    """Forward flows ``[T-1, H, W, 2]`` in pixels -> ``[1, T, 2, H, W]`` in frame units.

    The last frame has no successor and gets a zero flow. Dividing by the frame size makes
    the encoder's input independent of the resolution it runs at.
    """
    steps, height, width, _ = forward_flows.shape
    flows = torch.zeros(1, steps + 1, 2, height, width, device=device, dtype=dtype)
    if steps:
        flows[0, :steps] = torch.from_numpy(np.ascontiguousarray(forward_flows)).to(device, dtype).permute(0, 3, 1, 2)
    scale = torch.tensor([width, height], device=device, dtype=dtype).view(1, 1, 2, 1, 1)
    return flows / scale


def resize_video(video: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize ``[B, T, C, H, W]`` images (area when shrinking, bilinear when growing)."""
    batch, frames, channels, in_h, in_w = video.shape
    if (in_h, in_w) == (height, width):
        return video
    flat = video.reshape(batch * frames, channels, in_h, in_w)
    shrinking = height <= in_h and width <= in_w
    if shrinking:
        resized = F.interpolate(flat, size=(height, width), mode="area")
    else:
        resized = F.interpolate(flat, size=(height, width), mode="bilinear", align_corners=False)
    return resized.reshape(batch, frames, channels, height, width)


def resize_mask(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize ``[B, T, 1, H, W]`` masks so that a cell touching any hole pixel is a hole.

    Known pixels at a reduced scale must really be known: a cell that averaged in a damaged
    pixel would leak the damage into the repair.
    """
    resized = resize_video(mask, height, width)
    return (resized > 1e-6).to(mask.dtype)
