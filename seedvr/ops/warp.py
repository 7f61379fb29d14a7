"""Backward warping with optical flow, shared by propagation, the losses and the metrics."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Pixel coordinates ``[2, H, W]`` (x first, then y), as flow fields are stored."""
    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype),
        torch.arange(width, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack((xs, ys))


def backward_warp(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``image`` at ``p + flow(p)`` for every pixel ``p``.

    ``image`` is ``[N, C, H, W]``, ``flow`` is ``[N, 2, H, W]`` in pixels (x, y). Returns the
    warped image and an ``[N, 1, H, W]`` map that is 1 where the sample point fell inside the
    frame, so callers never trust values invented by border padding.
    """
    n, _, height, width = image.shape
    # Coordinates and sampling run in at least float32: in bf16/fp16 the pixel grid itself is
    # not exact (bf16 rounds 431 to 432), which moves samples by whole pixels.
    compute = torch.promote_types(torch.promote_types(image.dtype, flow.dtype), torch.float32)
    coords = pixel_grid(height, width, device=image.device, dtype=compute).unsqueeze(0) + flow.to(compute)
    # grid_sample wants coordinates in [-1, 1] with align_corners=True mapping to pixel centres.
    norm_x = 2.0 * coords[:, 0] / max(width - 1, 1) - 1.0
    norm_y = 2.0 * coords[:, 1] / max(height - 1, 1) - 1.0
    grid = torch.stack((norm_x, norm_y), dim=-1)
    warped = F.grid_sample(image.to(compute), grid, mode=mode, padding_mode="border", align_corners=True).to(image.dtype)
    inside = (norm_x.abs() <= 1.0) & (norm_y.abs() <= 1.0)
    return warped, inside.unsqueeze(1).to(image.dtype)
