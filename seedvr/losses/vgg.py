"""ImageNet VGG16 feature extractor that loads torchvision's weight files without torchvision.

The layers are laid out exactly like ``torchvision.models.vgg16().features`` (same indices,
so the same state-dict keys ``features.0.weight``, ``features.0.bias``, ``features.2.weight``,
...), which lets a stock ``vgg16-397923af.pth`` load with a plain ``load_state_dict``. Only
the layers up to the deepest requested activation are built: the loss needs ``relu3_3``
(1.7 M parameters), LPIPS needs ``relu5_3``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from seedvr.errors import SeedVRError

# VGG16 ("configuration D"): channel counts, "M" = 2x2 max-pool. Indices into the resulting
# Sequential match torchvision because every conv is followed by exactly one ReLU.
_VGG16_PLAN: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")

# Index of each named activation inside ``features`` (torchvision numbering).
VGG16_LAYER_INDEX: dict[str, int] = {
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu4_1": 18,
    "relu4_2": 20,
    "relu4_3": 22,
    "relu5_1": 25,
    "relu5_2": 27,
    "relu5_3": 29,
}

# torchvision's ImageNet weights expect inputs normalised with these statistics.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _build_features(last_index: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for item in _VGG16_PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1))
            # Not in-place: captured activations must survive the next layer for autograd.
            layers.append(nn.ReLU(inplace=False))
            in_channels = int(item)
        if len(layers) > last_index:
            break
    return nn.Sequential(*layers[: last_index + 1])


class VGG16Features(nn.Module):
    """Frozen VGG16 trunk returning the named ReLU activations for inputs in ``[0, 1]``.

    ``layers`` are names from :data:`VGG16_LAYER_INDEX`. ``imagenet_normalize`` applies the
    ImageNet mean/std first (what the perceptual loss wants); LPIPS does its own scaling and
    turns it off.
    """

    def __init__(self, layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3"), imagenet_normalize: bool = True) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in VGG16_LAYER_INDEX]
        if unknown or not layers:
            raise ValueError(f"unknown VGG16 layer(s) {unknown}; choose from {list(VGG16_LAYER_INDEX)}")
        self.layers = tuple(sorted(layers, key=VGG16_LAYER_INDEX.__getitem__))
        self.features = _build_features(VGG16_LAYER_INDEX[self.layers[-1]])
        self.imagenet_normalize = imagenet_normalize
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self._capture = {VGG16_LAYER_INDEX[name]: name for name in self.layers}
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG16Features:
        # A fixed feature extractor: never switch to training behaviour, whatever the parent does.
        return super().train(False)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``images`` ``[N, 3, H, W]``; returns ``{layer name: activation}``."""
        x = (images - self.mean) / self.std if self.imagenet_normalize else images
        activations: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self._capture:
                activations[self._capture[index]] = x
        return activations


def load_vgg16_features(
    weights_path: str | Path,
    layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3"),
    imagenet_normalize: bool = True,
) -> VGG16Features:
    """Build :class:`VGG16Features` and load a torchvision-format VGG16 state dict into it.

    Keys beyond the deepest requested layer (deeper convs, the classifier) are ignored; a
    missing or misshapen key means the file is not a VGG16 state dict and raises
    :class:`SeedVRError`.
    """
    path = Path(weights_path)
    if not path.is_file():
        raise SeedVRError(f"VGG16 weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a corrupt or non-tensor file
        raise SeedVRError(f"{path} is not a readable torch state dict: {error}") from None
    if not isinstance(state, dict):
        raise SeedVRError(f"{path} does not hold a state dict (found {type(state).__name__})")
    model = VGG16Features(layers=layers, imagenet_normalize=imagenet_normalize)
    expected = model.features.state_dict()
    subset = {}
    for key, reference in expected.items():
        stored = state.get(f"features.{key}")
        if stored is None:
            raise SeedVRError(f"{path} is not a torchvision VGG16 state dict: key features.{key} is missing")
        if tuple(stored.shape) != tuple(reference.shape):
            raise SeedVRError(
                f"{path} is not a torchvision VGG16 state dict: features.{key} has shape "
                f"{tuple(stored.shape)}, expected {tuple(reference.shape)}"
            )
        subset[key] = stored
    model.features.load_state_dict(subset, strict=True)
    return model
