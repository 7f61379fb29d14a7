"""TemporalConsistencyEncoder: spatio-temporal features of a damaged clip for the denoiser.

It reads, at coarse resolution, everything known about the clip: the masked frames, the mask,
the flow-propagation guess with its validity and the forward optical flow. Three mechanisms
carry information across frames:

* 3D convolutions mix each pixel with its neighbours in space and in the adjacent frames;
* flow fusion warps the next frame's features onto the current frame along the forward flow
  (so a moving object's features line up) and modulates the features with a FiLM branch
  conditioned on the flow field (motion magnitude tells how much to trust neighbours);
* temporal self-attention lets every pixel look at the same pixel in every frame.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from seedvr.errors import SeedVRError
from seedvr.models.attention import TemporalSelfAttention
from seedvr.models.video_checks import check_channels, check_video_tensors
from seedvr.ops.warp import backward_warp

INPUT_CHANNELS = 3 + 1 + 3 + 1 + 2  # masked frames, mask, propagated, validity, flow


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= 8 that divides ``channels``."""
    groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
    return nn.GroupNorm(groups, channels, eps=1e-6)


class ResBlock3D(nn.Module):
    """Two 3x3x3 convolutions with a residual connection (space and time at once)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            group_norm(channels),
            nn.SiLU(),
            nn.Conv3d(channels, channels, kernel_size=3, padding=1),
            group_norm(channels),
            nn.SiLU(),
            nn.Conv3d(channels, channels, kernel_size=3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class FlowFusion(nn.Module):
    """Fuse features along the forward flow: warp frame t+1 onto frame t, then flow-conditioned FiLM."""

    def __init__(self, channels: int):
        super().__init__()
        self.merge = nn.Conv3d(2 * channels + 1, channels, kernel_size=1)
        # Flow (x, y), its magnitude and the in-frame map of the warp.
        self.film = nn.Sequential(
            nn.Conv3d(4, channels, kernel_size=3, padding=1),
            nn.SiLU(),
            nn.Conv3d(channels, 2 * channels, kernel_size=3, padding=1),
        )

    def forward(self, features: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """``features`` ``[B, C, T, h, w]``; ``flow`` ``[B, 2, T, h, w]`` normalised by frame size."""
        b, c, t, h, w = features.shape
        # Frame t's forward flow points into frame t+1; the last frame has no successor, so it
        # is paired with itself (its flow is zero by convention).
        next_features = torch.cat([features[:, :, 1:], features[:, :, -1:]], dim=2)
        scale = torch.tensor([w, h], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1, 1)
        flow_pixels = flow * scale
        flat_next = next_features.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        flat_flow = flow_pixels.permute(0, 2, 1, 3, 4).reshape(b * t, 2, h, w)
        aligned, inside = backward_warp(flat_next, flat_flow)
        aligned = aligned.view(b, t, c, h, w).permute(0, 2, 1, 3, 4)
        inside = inside.view(b, t, 1, h, w).permute(0, 2, 1, 3, 4)
        fused = features + self.merge(torch.cat([features, aligned * inside, inside], dim=1))
        magnitude = flow.norm(dim=1, keepdim=True)
        scale_shift = self.film(torch.cat([flow, magnitude, inside], dim=1))
        film_scale, film_shift = scale_shift.chunk(2, dim=1)
        return fused * (1 + film_scale) + film_shift


class TemporalConsistencyEncoder(ModelMixin, ConfigMixin):
    """Coarse spatio-temporal features ``[B, T, F, h, w]`` for the denoiser.

    Args:
        base_channels: width of the internal features.
        out_channels: ``F``, the feature channels handed to the denoiser.
        num_res_blocks: 3D residual blocks before flow fusion.
        num_attention_blocks: (temporal attention + 3D residual block) pairs after flow fusion.
        num_heads: heads of the temporal attention.
        spatial_downsample: stride-2 spatial reductions (features are ``H / 2**n`` high).
    """

    @register_to_config
    def __init__(
        self,
        base_channels: int = 32,
        out_channels: int = 32,
        num_res_blocks: int = 1,
        num_attention_blocks: int = 1,
        num_heads: int = 4,
        spatial_downsample: int = 1,
    ):
        super().__init__()
        if base_channels % num_heads or (base_channels // num_heads) % 2:
            raise SeedVRError(f"base_channels {base_channels} must split into {num_heads} heads of even width.")
        self.stem = nn.Conv3d(INPUT_CHANNELS, base_channels, kernel_size=3, padding=1)
        self.downsample = nn.ModuleList(
            [
                nn.Conv3d(base_channels, base_channels, kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
                for _ in range(spatial_downsample)
            ]
        )
        self.res_blocks = nn.ModuleList([ResBlock3D(base_channels) for _ in range(num_res_blocks)])
        self.flow_fusion = FlowFusion(base_channels)
        self.attention_blocks = nn.ModuleList(
            [
                nn.ModuleDict({"attention": TemporalSelfAttention(base_channels, num_heads), "conv": ResBlock3D(base_channels)})
                for _ in range(num_attention_blocks)
            ]
        )
        self.head = nn.Sequential(group_norm(base_channels), nn.SiLU(), nn.Conv3d(base_channels, out_channels, kernel_size=1))

    def forward(
        self,
        masked_frames: torch.Tensor,
        mask: torch.Tensor,
        propagated: torch.Tensor,
        validity: torch.Tensor,
        flow: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Encode a clip. ``flow``: forward flow ``[B, T, 2, H, W]`` divided by (W, H); None = zeros."""
        batch, frames, height, width = check_video_tensors(
            masked_frames=masked_frames, mask=mask, propagated=propagated, validity=validity
        )
        for name, tensor, channels in (
            ("masked_frames", masked_frames, 3),
            ("mask", mask, 1),
            ("propagated", propagated, 3),
            ("validity", validity, 1),
        ):
            check_channels(name, tensor, channels)
        dtype = self.stem.weight.dtype
        if flow is None:
            flow = masked_frames.new_zeros(batch, frames, 2, height, width)
        if flow.dim() != 5 or flow.shape[:3] != (batch, frames, 2):
            raise SeedVRError(f"flow must be [B, T, 2, H, W] = [{batch}, {frames}, 2, ...], got shape {tuple(flow.shape)}.")
        if flow.shape[3:] != (height, width):
            # Normalised flow is resolution-free, so resizing it only changes its sampling.
            flow = F.interpolate(flow.flatten(0, 1), size=(height, width), mode="bilinear", align_corners=False)
            flow = flow.view(batch, frames, 2, height, width)

        video = torch.cat([masked_frames, mask, propagated, validity, flow], dim=2).to(dtype)
        features = self.stem(video.permute(0, 2, 1, 3, 4))  # [B, C, T, H, W]
        for down in self.downsample:
            features = F.silu(down(features))
        for block in self.res_blocks:
            features = block(features)

        flow_here = flow.to(dtype).permute(0, 2, 1, 3, 4)
        if flow_here.shape[3:] != features.shape[3:]:
            flow_here = F.interpolate(flow_here, size=features.shape[2:], mode="trilinear", align_corners=False)
        features = self.flow_fusion(features, flow_here)

        for block in self.attention_blocks:
            features = block["conv"](block["attention"](features))
        return self.head(features).permute(0, 2, 1, 3, 4)
