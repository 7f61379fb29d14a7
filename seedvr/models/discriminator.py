"""PatchDiscriminator3D: a small spatio-temporal PatchGAN for the optional adversarial loss.

Each output logit judges one space-time patch of the clip, so the loss pushes for realistic
texture *and* motion locally without caring about global layout. Spectral normalisation on
every convolution bounds the discriminator's Lipschitz constant, which keeps adversarial
training stable with small batches.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch.nn.utils.parametrizations import spectral_norm

from seedvr.errors import SeedVRError


class PatchDiscriminator3D(ModelMixin, ConfigMixin):
    """3D PatchGAN: ``forward(video [B, T, 3, H, W]) -> logits [B, 1, t, h, w]``.

    Args:
        in_channels: channels of the judged video (RGB).
        base_channels: width of the first layer; doubles at each further layer (capped at 8x).
        num_layers: strided layers; each halves height and width, and from the second on also
            halves time when ``temporal_downsample`` is set.
        temporal_downsample: also stride along time in the deeper layers.
    """

    @register_to_config
    def __init__(self, in_channels: int = 3, base_channels: int = 32, num_layers: int = 3, temporal_downsample: bool = True):
        super().__init__()
        if num_layers < 1:
            raise SeedVRError(f"the discriminator needs at least one layer, got num_layers={num_layers}.")
        layers: list[nn.Module] = []
        channels_in = in_channels
        for index in range(num_layers):
            channels_out = base_channels * min(2**index, 8)
            time_stride = 2 if (temporal_downsample and index > 0) else 1
            layers += [
                spectral_norm(
                    nn.Conv3d(channels_in, channels_out, kernel_size=(3, 4, 4), stride=(time_stride, 2, 2), padding=(1, 1, 1))
                ),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels_in = channels_out
        layers.append(spectral_norm(nn.Conv3d(channels_in, 1, kernel_size=3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if video.dim() != 5 or video.shape[2] != self.config.in_channels:
            raise SeedVRError(
                f"the discriminator takes [B, T, {self.config.in_channels}, H, W] videos, got shape {tuple(video.shape)}."
            )
        return self.net(video.permute(0, 2, 1, 3, 4).to(self.dtype))
