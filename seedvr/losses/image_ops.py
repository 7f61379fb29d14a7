"""Fixed, differentiable image operators shared by the loss terms.

All take ``[N, C, H, W]`` float tensors and work channel by channel (depthwise convolutions
with fixed kernels), so they cost nothing to train and never need weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights: flicker is perceived mostly as a change of brightness.
_LUMA = (0.299, 0.587, 0.114)

_SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
_LAPLACIAN = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


def luminance(images: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` RGB -> ``[N, 1, H, W]`` luma."""
    weights = images.new_tensor(_LUMA).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def _depthwise(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Apply each of ``kernels`` ``[K, k, k]`` to every channel: ``[N, C*K, H, W]``.

    Replicate padding keeps the frame border from looking like a strong edge.
    """
    channels = images.shape[1]
    count, size, _ = kernels.shape
    weight = kernels.to(images.dtype).repeat(channels, 1, 1).unsqueeze(1)  # [C*K, 1, k, k]
    pad = size // 2
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    return F.conv2d(padded, weight, groups=channels)


def sobel_gradients(images: torch.Tensor) -> torch.Tensor:
    """Horizontal and vertical Sobel derivatives (scaled by 1/8), ``[N, 2C, H, W]``."""
    sobel_x = images.new_tensor(_SOBEL_X) / 8.0
    return _depthwise(images, torch.stack((sobel_x, sobel_x.t())))


def gradient_laplacian_bank(images: torch.Tensor) -> torch.Tensor:
    """Sobel x, Sobel y and Laplacian responses of every channel, ``[N, 3C, H, W]``."""
    sobel_x = images.new_tensor(_SOBEL_X) / 8.0
    laplacian = images.new_tensor(_LAPLACIAN) / 4.0
    return _depthwise(images, torch.stack((sobel_x, sobel_x.t(), laplacian)))


def gram_matrix(features: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``[N, C, H, W]`` -> ``[N, C, C]`` channel second moments ``E[f_i f_j]`` over pixels.

    With ``weight`` ``[N, 1, H, W]`` the moments are weighted averages over the pixels
    (texture statistics of a region only); an image whose weights are all zero gets 0.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    if weight is None:
        return flat @ flat.transpose(1, 2) / float(h * w)
    weights = weight.reshape(n, 1, h * w)
    return (flat * weights) @ flat.transpose(1, 2) / weights.sum(dim=2, keepdim=True).clamp_min(1e-8)


def signed_sqrt(values: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """``sign(x) * (sqrt(|x| + eps) - sqrt(eps))``: 0 at 0, monotonic, bounded slope.

    Gram entries are products of two responses; taking their root puts a style distance
    back in the units of the responses themselves, on the same scale as the perceptual L1,
    so fixed loss weights stay meaningful whatever the image contrast.
    """
    return torch.sign(values) * (torch.sqrt(values.abs() + eps) - eps**0.5)


def gram_distance(features_a: torch.Tensor, features_b: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute difference of the (signed-root) Gram matrices of two feature maps.

    With ``weight`` ``[N, 1, H, W]`` both Grams are taken over the weighted region and the
    per-image distances are averaged in proportion to each image's region area.
    """
    per_image = (signed_sqrt(gram_matrix(features_a, weight)) - signed_sqrt(gram_matrix(features_b, weight))).abs()
    per_image = per_image.mean(dim=(1, 2))
    if weight is None:
        return per_image.mean()
    area = weight.sum(dim=(1, 2, 3))
    return (per_image * area).sum() / area.sum().clamp_min(1e-8)


def masked_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean of ``values`` ``[N, C, H, W]`` with ``weight`` ``[N, 1, H, W]``.

    Normalised by the weighted area times the channel count, so the value does not shrink
    with the hole size; an all-zero weight gives exactly 0 (nothing to judge).
    """
    channels = values.shape[1]
    area = weight.sum() * channels
    return (values * weight).sum() / area.clamp_min(1e-8)


def resize_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Shrink an ``[N, 1, H, W]`` mask to ``size``: a cell is set if any pixel under it is."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.adaptive_max_pool2d(mask, size)


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary dilation of an ``[N, 1, H, W]`` mask with a square of side ``2*radius+1``."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, kernel_size=2 * radius + 1, stride=1, padding=radius)


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary erosion, the dual of :func:`dilate` (max-pool pads with -inf, so borders stay)."""
    return 1.0 - dilate(1.0 - mask, radius)


def border_band(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Pixels within ``radius`` of the mask border on either side: dilation minus erosion."""
    return dilate(mask, radius) - erode(mask, radius)


def _gaussian_kernel(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g).unsqueeze(0)  # [1, k, k]


def ssim_map(pred: torch.Tensor, target: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-pixel SSIM (Wang et al. 2004, data range 1) with a Gaussian window, ``[N, C, H, W]``.

    The window shrinks to the largest odd size that fits the image, so tiny frames and the
    coarse scales of the structural loss still get a defined value.
    """
    smallest = min(pred.shape[-2:])
    window = min(window, smallest if smallest % 2 == 1 else smallest - 1)
    window = max(window, 1)
    sigma = min(sigma, max(window / 6.0, 0.5)) if window < 11 else sigma
    kernel = _gaussian_kernel(window, sigma, pred)
    c1, c2 = 0.01**2, 0.03**2
    mu_p = _depthwise(pred, kernel)
    mu_t = _depthwise(target, kernel)
    var_p = _depthwise(pred * pred, kernel) - mu_p**2
    var_t = _depthwise(target * target, kernel) - mu_t**2
    cov = _depthwise(pred * target, kernel) - mu_p * mu_t
    numerator = (2 * mu_p * mu_t + c1) * (2 * cov + c2)
    denominator = (mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2)
    return numerator / denominator
