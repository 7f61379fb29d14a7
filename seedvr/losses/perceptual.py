"""Perceptual and style (Gram) terms, with a VGG16 backend and a weight-free fallback.

* ``vgg16``: L1 between VGG16 activations (relu1_2, relu2_2, relu3_3) for the perceptual
  term, L1 between their Gram matrices for the style term (Gatys et al. 2016; Johnson et al.
  2016). Needs ImageNet VGG16 weights on disk: random VGG features would reward nothing
  meaningful.
* ``structural``: no weights at all. Perceptual = multi-scale SSIM distance + image-gradient
  L1 (structure and edges, what VGG's early layers mostly respond to); style = L1 between
  Gram matrices of a fixed multi-scale Sobel/Laplacian filter bank (texture statistics:
  how much oriented detail there is and how channels co-vary, independent of position).

Both judge the region around the hole, not the whole frame: every map is averaged over the
hole grown by a margin (the reach of the SSIM window, or one feature cell), and the Grams
are the texture statistics of that region. Outside it the composite equals the target, so a
whole-frame mean would only shrink the value with the hole size and make the fixed loss
weights mean different things for small and large holes. Gram entries are second moments
compared after a signed square root (:func:`seedvr.losses.image_ops.signed_sqrt`), which
puts style on the scale of the perceptual term.

Backends are called as ``backend(pred, target, mask) -> (perceptual, style)`` with
``[N, 3, H, W]`` images in ``[0, 1]`` and an ``[N, 1, H, W]`` hole mask.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seedvr.losses.image_ops import (
    dilate,
    gradient_laplacian_bank,
    gram_distance,
    masked_mean,
    resize_mask,
    sobel_gradients,
    ssim_map,
)
from seedvr.losses.vgg import load_vgg16_features

LOGGER = logging.getLogger(__name__)

LOSS_VGG_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3")

# Half the 11-tap SSIM window: pixels this close to the hole have windows that see the fill.
_SSIM_REACH = 5


def _pyramid(images: torch.Tensor, scales: int, min_side: int = 8) -> list[torch.Tensor]:
    """The image and its 2x average-pooled reductions while the short side stays >= min_side."""
    levels = [images]
    while len(levels) < scales and min(levels[-1].shape[-2:]) // 2 >= min_side:
        levels.append(F.avg_pool2d(levels[-1], kernel_size=2))
    return levels


class StructuralBackend(nn.Module):
    """Weight-free perceptual (MS-SSIM distance + gradient L1) and style (filter-bank Gram)."""

    name = "structural"

    def __init__(self, scales: int = 3) -> None:
        super().__init__()
        self.scales = scales

    def forward(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(perceptual, style)`` averaged over the pyramid levels."""
        perceptual = pred.new_zeros(())
        style = pred.new_zeros(())
        region = dilate(mask, _SSIM_REACH)
        levels = list(zip(_pyramid(pred, self.scales), _pyramid(target, self.scales)))
        for pred_level, target_level in levels:
            weight = resize_mask(region, tuple(pred_level.shape[-2:]))
            ssim_distance = 1.0 - ssim_map(pred_level, target_level)
            gradient_l1 = (sobel_gradients(pred_level) - sobel_gradients(target_level)).abs()
            perceptual = perceptual + masked_mean(ssim_distance, weight) + masked_mean(gradient_l1, weight)
            bank_pred, bank_target = gradient_laplacian_bank(pred_level), gradient_laplacian_bank(target_level)
            style = style + gram_distance(bank_pred, bank_target, weight)
        return perceptual / len(levels), style / len(levels)


class VGG16Backend(nn.Module):
    """Perceptual and style terms on frozen ImageNet VGG16 activations."""

    name = "vgg16"

    def __init__(self, weights_path: str | Path, layers: tuple[str, ...] = LOSS_VGG_LAYERS) -> None:
        super().__init__()
        self.layers = layers
        self.vgg = load_vgg16_features(weights_path, layers=layers)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(perceptual, style)`` from one VGG pass over each image batch."""
        pred_features = self.vgg(pred)
        # Target features carry no gradient: skip building their graph.
        with torch.no_grad():
            target_features = self.vgg(target)
        perceptual = pred.new_zeros(())
        style = pred.new_zeros(())
        for name in self.layers:
            # One feature cell of margin: its 3x3 convolutions already mix in the neighbours.
            weight = dilate(resize_mask(mask, tuple(pred_features[name].shape[-2:])), 1)
            perceptual = perceptual + masked_mean((pred_features[name] - target_features[name]).abs(), weight)
            style = style + gram_distance(pred_features[name], target_features[name], weight)
        return perceptual, style


def build_perceptual_backend(vgg16_weights: str | Path | None) -> nn.Module:
    """VGG16 backend when the weights file exists locally, otherwise the structural one.

    A configured path that does not exist is not an error (the same params.yaml runs on
    machines with and without the file) but it is logged, and the caller records
    ``backend.name`` so a run never silently changes meaning.
    """
    if vgg16_weights is not None and Path(vgg16_weights).is_file():
        return VGG16Backend(vgg16_weights)
    if vgg16_weights is not None:
        LOGGER.warning("VGG16 weights %s not found; perceptual/style terms use the structural backend", vgg16_weights)
    return StructuralBackend()
