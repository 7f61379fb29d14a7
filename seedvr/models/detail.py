"""Full-resolution refinement: high-frequency detail from neighbour frames, texture from the surroundings.

Both networks add a correction to the estimate they are given, through a last layer that
starts at zero, so an untrained network returns its input estimate exactly. They are small
convolutional networks (no attention) so they run at full resolution on a CPU.

* :class:`DetailRestorationNetwork` restores fine detail the coarse diffusion stages lose. It
  looks at the estimate, its temporal neighbours (t-1, t+1) and the flow-propagated frames
  (real pixels carried from other frames, already aligned with frame t), and its output is
  high-pass filtered, so it can only add detail, never shift colours or brightness.
* :class:`TexturePreservationNetwork` keeps the fill's texture consistent with the known area
  around the hole. Gated convolutions learn where the known pixels are (the mask is an input)
  and read them over a growing dilated context; one head corrects the hole, another refines a
  thin band around the mask border where seams show.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from seedvr.errors import SeedVRError
from seedvr.models.video_checks import check_channels, check_video_tensors

#: Frames the per-frame layers of the refinement networks process at once (memory, not results:
#: every frame gets the same numbers whatever the grouping).
FRAME_GROUP = 8


def box_blur(images: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Mean filter ``[N, C, H, W]`` with replicated borders (output keeps the input size)."""
    radius = kernel_size // 2
    padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    return F.avg_pool2d(padded, kernel_size, stride=1)


def high_pass(images: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """What a ``kernel_size`` box blur removes: edges and texture, no mean colour."""
    return images - box_blur(images, kernel_size)


def mask_border_band(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Band ``[N, 1, H, W]`` in {0, 1} of pixels within ``radius`` of the mask border.

    Dilation minus erosion, both by max-pooling with a ``(2r+1)`` square; the image edge
    itself is not treated as a border because max-pooling pads with -inf.
    """
    size = 2 * radius + 1
    dilated = F.max_pool2d(mask, size, stride=1, padding=radius)
    eroded = 1.0 - F.max_pool2d(1.0 - mask, size, stride=1, padding=radius)
    return dilated - eroded


def shift_in_time(video: torch.Tensor, offset: int) -> torch.Tensor:
    """Frame ``t + offset`` for every ``t`` of ``[B, T, C, H, W]``, repeating the first/last frame at the ends."""
    frames = video.shape[1]
    index = torch.arange(frames, device=video.device).add(offset).clamp(0, frames - 1)
    return video.index_select(1, index)


def zero_conv2d(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3x3 convolution initialised at zero: a residual branch that starts switched off."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class ResBlock2D(nn.Module):
    """Two 3x3 convolutions on each frame with a residual connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            nn.SiLU(),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TemporalConvBlock(nn.Module):
    """A 3x3x3 convolution across frames on ``[N*T, C, H, W]`` features, residual."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        nt, c, h, w = x.shape
        volume = x.view(nt // frames, frames, c, h, w).permute(0, 2, 1, 3, 4)
        mixed = F.silu(self.conv(volume)).permute(0, 2, 1, 3, 4).reshape(nt, c, h, w)
        return x + mixed


class DetailRestorationNetwork(ModelMixin, ConfigMixin):
    """Adds high-frequency detail taken from neighbour frames; returns ``estimate + residual``.

    Args:
        channels: width of the convolutional features.
        num_blocks: 2D residual blocks before and after the temporal block (each).
        highpass_kernel: box size of the high-pass applied to inputs and to the residual.
    """

    # estimate, its high-pass, estimate at t-1 and t+1, propagated, its high-pass, masked frames; mask, validity
    INPUT_CHANNELS = 3 * 7 + 1 + 1

    @register_to_config
    def __init__(self, channels: int = 32, num_blocks: int = 1, highpass_kernel: int = 5):
        super().__init__()
        if highpass_kernel < 3 or highpass_kernel % 2 == 0:
            raise SeedVRError(f"highpass_kernel must be an odd number >= 3, got {highpass_kernel}.")
        self.stem = nn.Conv2d(self.INPUT_CHANNELS, channels, kernel_size=3, padding=1)
        self.before = nn.Sequential(*[ResBlock2D(channels) for _ in range(num_blocks)])
        self.temporal = TemporalConvBlock(channels)
        self.after = nn.Sequential(*[ResBlock2D(channels) for _ in range(num_blocks)])
        self.head = zero_conv2d(channels, 3)

    @property
    def receptive_radius(self) -> int:
        """Pixels from which an input can change an output pixel: the input and output
        high-passes, the stem, every 3x3 convolution of the blocks, the temporal block, the head."""
        highpass = self.config.highpass_kernel // 2
        return 2 * highpass + 1 + 4 * self.config.num_blocks + 1 + 1

    def forward(
        self,
        estimate: torch.Tensor,
        masked_frames: torch.Tensor,
        mask: torch.Tensor,
        propagated: torch.Tensor,
        validity: torch.Tensor,
    ) -> torch.Tensor:
        """Refine ``estimate`` ``[B, T, 3, H, W]``; every input shares B, T, H, W."""
        batch, frames, height, width = check_video_tensors(
            estimate=estimate, masked_frames=masked_frames, mask=mask, propagated=propagated, validity=validity
        )
        for name, tensor, channels in (
            ("estimate", estimate, 3),
            ("masked_frames", masked_frames, 3),
            ("mask", mask, 1),
            ("propagated", propagated, 3),
            ("validity", validity, 1),
        ):
            check_channels(name, tensor, channels)
        kernel = self.config.highpass_kernel
        dtype = self.stem.weight.dtype
        earlier, later = shift_in_time(estimate, -1), shift_in_time(estimate, +1)

        def per_frame(frames_slice: slice, stage) -> torch.Tensor:
            """``stage`` on frames ``frames_slice`` flattened to ``[B*t, C, H, W]``, back as ``[B, t, ...]``."""

            def flat(video: torch.Tensor) -> torch.Tensor:
                part = video[:, frames_slice]
                return part.reshape(-1, part.shape[2], height, width).to(dtype)

            out = stage(flat)
            return out.view(batch, -1, *out.shape[1:])

        def encode(flat) -> torch.Tensor:
            current, known = flat(estimate), flat(propagated)
            inputs = [current, high_pass(current, kernel), flat(earlier), flat(later), known, high_pass(known, kernel)]
            inputs += [flat(mask), flat(validity), flat(masked_frames)]
            return self.before(F.silu(self.stem(torch.cat(inputs, dim=1))))

        # Everything but the temporal block works frame by frame: it runs a few frames at a
        # time, so the wide intermediate features of a whole clip never exist at once.
        groups = [slice(start, start + FRAME_GROUP) for start in range(0, frames, FRAME_GROUP)]
        features = torch.cat([per_frame(group, encode) for group in groups], dim=1)
        features = self.temporal(features.reshape(batch * frames, *features.shape[2:]), frames)
        features = features.view(batch, frames, *features.shape[1:])

        def correct(flat) -> torch.Tensor:
            # Only the high frequencies of the correction survive: detail, not colour shifts.
            return high_pass(self.head(self.after(flat(features))), kernel)

        residual = torch.cat([per_frame(group, correct) for group in groups], dim=1)
        return estimate + residual.to(estimate.dtype)


class GatedConv2d(nn.Module):
    """Gated convolution: features times a learned soft validity gate (free-form inpainting style).

    The gate lets the layer ignore pixels that are still holes and lean on the known ones,
    which a plain convolution cannot tell apart.
    """

    def __init__(self, in_channels: int, out_channels: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size=3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, gate = self.conv(x).chunk(2, dim=1)
        return F.silu(features) * torch.sigmoid(gate)


class TexturePreservationNetwork(ModelMixin, ConfigMixin):
    """Keeps the fill's texture consistent with the surroundings; returns ``estimate + residual``.

    ``residual = fill * mask + edge * band``: the fill term acts only inside the hole, the edge
    term only in a ``edge_band_radius`` band around the mask border.

    Args:
        channels: width of the gated convolutions.
        dilations: dilation of each residual gated convolution (context grows with each).
        edge_band_radius: half-width in pixels of the border band.
    """

    INPUT_CHANNELS = 3 + 3 + 1 + 1  # masked frames, estimate, mask, border band

    @register_to_config
    def __init__(self, channels: int = 32, dilations: tuple[int, ...] = (1, 2, 4, 1), edge_band_radius: int = 2):
        super().__init__()
        if edge_band_radius < 1:
            raise SeedVRError(f"edge_band_radius must be at least 1 pixel, got {edge_band_radius}.")
        self.stem = GatedConv2d(self.INPUT_CHANNELS, channels)
        self.context = nn.ModuleList([GatedConv2d(channels, channels, dilation=int(d)) for d in dilations])
        self.fill_head = zero_conv2d(channels, 3)
        self.edge_head = zero_conv2d(channels, 3)

    @property
    def receptive_radius(self) -> int:
        """Pixels from which an input can change an output pixel: the border band, the stem,
        each dilated context convolution, the heads."""
        return self.config.edge_band_radius + 1 + sum(int(d) for d in self.config.dilations) + 1

    def forward(self, estimate: torch.Tensor, masked_frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Refine ``estimate`` ``[B, T, 3, H, W]`` from the known pixels ``masked_frames`` around ``mask``."""
        batch, frames, height, width = check_video_tensors(estimate=estimate, masked_frames=masked_frames, mask=mask)
        for name, tensor, channels in (("estimate", estimate, 3), ("masked_frames", masked_frames, 3), ("mask", mask, 1)):
            check_channels(name, tensor, channels)
        # Frame by frame, a few frames at a time: the gated features of a whole clip at full
        # resolution would be the model's largest buffer.
        residual = torch.cat(
            [
                self._residual(
                    estimate[:, start : start + FRAME_GROUP],
                    masked_frames[:, start : start + FRAME_GROUP],
                    mask[:, start : start + FRAME_GROUP],
                )
                for start in range(0, frames, FRAME_GROUP)
            ],
            dim=1,
        )
        return estimate + residual.to(estimate.dtype)

    def _residual(self, estimate: torch.Tensor, masked_frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, frames, _, height, width = estimate.shape
        dtype = self.stem.conv.weight.dtype
        hole = mask.reshape(batch * frames, 1, height, width).to(dtype)
        band = mask_border_band(hole, self.config.edge_band_radius)
        inputs = torch.cat(
            [
                masked_frames.reshape(batch * frames, 3, height, width).to(dtype),
                estimate.reshape(batch * frames, 3, height, width).to(dtype),
                hole,
                band,
            ],
            dim=1,
        )
        features = self.stem(inputs)
        for layer in self.context:
            features = features + layer(features)
        residual = self.fill_head(features) * hole + self.edge_head(features) * band
        return residual.view(batch, frames, 3, height, width)
