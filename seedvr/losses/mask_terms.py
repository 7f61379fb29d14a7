"""Loss terms defined by the damage mask: content L1 inside it and edge smoothness at its border."""

from __future__ import annotations

import torch

from seedvr.losses.image_ops import border_band, masked_mean, sobel_gradients


def content_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the masked pixels (``[N, C, H, W]`` images, ``[N, 1, H, W]`` mask)."""
    return masked_mean((pred - target).abs(), mask)


def border_edge_smoothness(composite: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, band_radius: int) -> torch.Tensor:
    """L1 between image gradients of the composite and of the target near the mask border.

    The band (dilation minus erosion, ``band_radius`` pixels each side) is where a seam
    appears when the fill does not continue the surroundings: a step across the border shows
    up as a gradient the target does not have.
    """
    band = border_band(mask, band_radius)
    difference = (sobel_gradients(composite) - sobel_gradients(target)).abs()
    return masked_mean(difference, band)
