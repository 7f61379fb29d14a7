"""LPIPS (Zhang et al. 2018, VGG variant), computed only when its weights are on disk.

LPIPS needs two sets of weights:

1. the ImageNet VGG16 trunk, in torchvision's file format (``vgg16-397923af.pth``). It is
   not shipped with any installed package and nothing here downloads, so the caller must
   point at a local copy; without it :func:`lpips` returns ``None`` and reports must say
   "not computed". Random VGG features would give a number that means nothing, so there
   is deliberately no fallback.
2. the linear calibration heads (LPIPS v0.1, ``lin0..lin4``). torchmetrics ships them
   inside its wheel (``torchmetrics/functional/image/lpips_models/vgg.pth``, a few KB), so
   they are found locally by default; another copy can be passed explicitly.

The network is rebuilt here without torchvision (see :mod:`seedvr.losses.vgg`): inputs
scaled to [-1, 1] then shifted/scaled per channel, activations at relu1_2 ... relu5_3
unit-normalised along channels, squared differences weighted by the linear heads,
averaged over space and summed over layers. 0 for identical frames, higher = more
different; the clip's score is the mean over frames.
"""

from __future__ import annotations

import functools
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seedvr.errors import SeedVRError
from seedvr.losses.vgg import load_vgg16_features
from seedvr.metrics._inputs import to_unit_tensor
from seedvr.video_contract import check_videos_alike

LPIPS_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
_LPIPS_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS' own input scaling (applied to [-1, 1] images), from the reference implementation.
_LPIPS_SHIFT = (-0.030, -0.088, -0.188)
_LPIPS_SCALE = (0.458, 0.448, 0.450)


def default_linear_heads() -> Path | None:
    """Path of the LPIPS v0.1 VGG linear heads bundled with torchmetrics, if installed."""
    spec = find_spec("torchmetrics")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "functional" / "image" / "lpips_models" / "vgg.pth"
    return path if path.is_file() else None


def lpips_available(vgg16_weights: str | Path | None, linear_heads: str | Path | None = None) -> bool:
    """True when both the VGG16 trunk and the linear heads are present locally."""
    heads = Path(linear_heads) if linear_heads is not None else default_linear_heads()
    return vgg16_weights is not None and Path(vgg16_weights).is_file() and heads is not None and heads.is_file()


class LPIPSVGG(nn.Module):
    """LPIPS distance with a VGG16 trunk; ``forward`` returns one distance per image pair."""

    def __init__(self, vgg16_weights: str | Path, linear_heads: str | Path) -> None:
        super().__init__()
        self.trunk = load_vgg16_features(vgg16_weights, layers=LPIPS_LAYERS, imagenet_normalize=False)
        self.register_buffer("shift", torch.tensor(_LPIPS_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_LPIPS_SCALE).view(1, 3, 1, 1), persistent=False)
        self.heads = nn.ParameterList(_load_linear_heads(linear_heads))
        self.requires_grad_(False)
        self.eval()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` images in [0, 1] -> ``[N]`` distances."""
        features_pred = self.trunk(((2 * pred - 1) - self.shift) / self.scale)
        features_target = self.trunk(((2 * target - 1) - self.shift) / self.scale)
        distance = pred.new_zeros(pred.shape[0])
        for name, head in zip(LPIPS_LAYERS, self.heads):
            unit_pred = _unit_normalize(features_pred[name])
            unit_target = _unit_normalize(features_target[name])
            weighted = ((unit_pred - unit_target) ** 2 * head).sum(dim=1)
            distance = distance + weighted.mean(dim=(1, 2))
        return distance


def _unit_normalize(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return features / torch.sqrt((features**2).sum(dim=1, keepdim=True) + eps)


def _load_linear_heads(path: str | Path) -> list[nn.Parameter]:
    """The five 1x1 linear heads as ``[1, C, 1, 1]`` weights (keys ``lin{k}.model.1.weight``)."""
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for an unreadable file
        raise SeedVRError(f"{path} is not a readable LPIPS linear-head file: {error}") from None
    heads = []
    for index, channels in enumerate(_LPIPS_CHANNELS):
        weight = state.get(f"lin{index}.model.1.weight") if isinstance(state, dict) else None
        if weight is None or tuple(weight.shape) != (1, channels, 1, 1):
            raise SeedVRError(f"{path} is not an LPIPS VGG linear-head file: lin{index} is missing or misshapen")
        # Stored as a [1, C, 1, 1] conv kernel; as [1, C, 1, 1] it broadcasts over [N, C, H, W].
        heads.append(nn.Parameter(weight.float(), requires_grad=False))
    return heads


@functools.lru_cache(maxsize=2)
def _cached_model(vgg16_weights: str, linear_heads: str) -> LPIPSVGG:
    # Loading a 528 MB VGG16 file per clip would dominate an evaluation run.
    return LPIPSVGG(vgg16_weights, linear_heads)


def lpips(
    pred: np.ndarray,
    target: np.ndarray,
    vgg16_weights: str | Path | None,
    linear_heads: str | Path | None = None,
    batch_frames: int = 8,
) -> float | None:
    """Mean LPIPS (VGG) over frames, or ``None`` when the weights are not found locally."""
    check_videos_alike(pred, target)
    if not lpips_available(vgg16_weights, linear_heads):
        return None
    heads = Path(linear_heads) if linear_heads is not None else default_linear_heads()
    model = _cached_model(str(Path(vgg16_weights).resolve()), str(Path(heads).resolve()))
    pred_frames, target_frames = to_unit_tensor(pred), to_unit_tensor(target)
    distances = []
    with torch.no_grad():
        for start in range(0, pred_frames.shape[0], batch_frames):
            stop = start + batch_frames
            distances.append(model(pred_frames[start:stop], target_frames[start:stop]))
    return float(torch.cat(distances).mean())
