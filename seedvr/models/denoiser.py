"""SeedVRDenoiser: a video diffusion transformer with shifted-window spatio-temporal attention.

The denoiser predicts the clean clip (``prediction_type = "sample"``) as a correction to the
flow-propagation guess: ``x0 = propagated + residual``. The residual head starts at zero
(adaLN-Zero everywhere, zero final linear), so an untrained model returns the guess exactly and
training only has to learn what propagation misses.

Inputs, all ``[B, T, C, H, W]`` in [-1, 1] (masks and validity in {0, 1}):
  sample (noisy x_t, 3), masked_frames (3), mask (1, 1 = hole), propagated (3), validity (1),
  spatial (3: the holes filled from each frame alone, by Navier-Stokes inpainting),
are concatenated channel-wise and cut into 3D patches. Temporal features from the
:class:`~seedvr.models.temporal_encoder.TemporalConsistencyEncoder` are resized to the token
grid, projected and added to the tokens; their global average also joins the timestep in the
adaLN conditioning vector.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from seedvr.errors import SeedVRError
from seedvr.models.attention import (
    WindowLayout,
    WindowTransformerBlock,
    modulate,
    plan_windows,
    rope_tables_for,
    window_attention_mask,
)
from seedvr.models.embeddings import PatchEmbed3D, TimestepEmbedder, rotary_cos_sin
from seedvr.models.video_checks import check_channels, check_video_tensors

RGB_CHANNELS = 3
# sample, masked frames, mask, propagated, validity, spatial fill. The spatial candidate lets
# the model choose per pixel between what propagation carried in and what the frame itself
# suggests: on real footage per-frame Navier-Stokes beats propagation on thin damage
# (scratches, dust) and where the completed motion is wrong, and loses elsewhere.
CONDITION_CHANNELS = 3 + 3 + 1 + 3 + 1 + 3


def _as_triple(value, name: str) -> tuple[int, int, int]:
    triple = tuple(int(v) for v in value)
    if len(triple) != 3 or min(triple) < 1:
        raise SeedVRError(f"{name} must be three positive integers (t, h, w), got {value!r}.")
    return triple  # type: ignore[return-value]


class FinalLayer(nn.Module):
    """adaLN-modulated norm + a zero-initialised linear to pixel patches (the residual head)."""

    def __init__(self, hidden_size: int, patch_volume: int, out_channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 2 * hidden_size))
        self.linear = nn.Linear(hidden_size, patch_volume * out_channels)
        for layer in (self.modulation[1], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shift, scale = self.modulation(cond).chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


class SeedVRDenoiser(ModelMixin, ConfigMixin):
    """Video diffusion transformer predicting ``x0 = propagated + residual``.

    Args:
        hidden_size: token width.
        depth: number of transformer blocks; every second block (index 1, 3, ...) shifts its windows.
        num_heads: attention heads (``hidden_size`` must divide evenly).
        patch_size: ``(pt, ph, pw)`` 3D patch in frames x pixels.
        window_size: ``(wt, wh, ww)`` attention window in tokens.
        mlp_ratio: MLP width relative to ``hidden_size``.
        temporal_feature_channels: channels of the encoder features (0 disables them).
        qk_norm: RMS-normalise queries and keys.
        prediction_type: what the model predicts; always ``"sample"`` (the clean clip).

    Calls without ``temporal_features`` leave ``temporal_proj`` and ``temporal_pool_proj``
    without gradients (they are the only parameters that may see ``grad is None``). Supports
    diffusers gradient checkpointing (``enable_gradient_checkpointing()``) block by block.
    """

    _supports_gradient_checkpointing = True
    _no_split_modules = ["WindowTransformerBlock"]

    @register_to_config
    def __init__(
        self,
        hidden_size: int = 96,
        depth: int = 4,
        num_heads: int = 4,
        patch_size: tuple[int, int, int] = (1, 2, 2),
        window_size: tuple[int, int, int] = (2, 4, 4),
        mlp_ratio: float = 4.0,
        temporal_feature_channels: int = 32,
        qk_norm: bool = True,
        prediction_type: str = "sample",
    ):
        super().__init__()
        if prediction_type != "sample":
            raise SeedVRError(f"SeedVRDenoiser predicts the clean sample; prediction_type {prediction_type!r} is not supported.")
        if hidden_size % num_heads or (hidden_size // num_heads) % 2:
            raise SeedVRError(f"hidden_size {hidden_size} must split into {num_heads} heads of even width.")
        self.patch_size = _as_triple(patch_size, "patch_size")
        self.window_size = _as_triple(window_size, "window_size")
        self.head_dim = hidden_size // num_heads
        self.gradient_checkpointing = False

        self.patch_embed = PatchEmbed3D(CONDITION_CHANNELS, hidden_size, self.patch_size)
        self.time_embed = TimestepEmbedder(hidden_size)
        if temporal_feature_channels > 0:
            self.temporal_proj = nn.Linear(temporal_feature_channels, hidden_size)
            self.temporal_pool_proj = nn.Linear(temporal_feature_channels, hidden_size)
        else:
            self.temporal_proj = None
            self.temporal_pool_proj = None
        self.blocks = nn.ModuleList(
            [
                WindowTransformerBlock(hidden_size, num_heads, mlp_ratio, shifted=bool(index % 2), qk_norm=qk_norm)
                for index in range(depth)
            ]
        )
        patch_volume = self.patch_size[0] * self.patch_size[1] * self.patch_size[2]
        self.final_layer = FinalLayer(hidden_size, patch_volume, RGB_CHANNELS)

    def plan(self, frames: int, height: int, width: int) -> WindowLayout:
        """Window layout of the token grid for a clip of this size."""
        pt, ph, pw = self.patch_size
        valid = (-(-frames // pt), -(-height // ph), -(-width // pw))
        return plan_windows(valid, self.window_size)

    def _timestep_batch(self, timestep, batch: int, device) -> torch.Tensor:
        timestep = torch.as_tensor(timestep, device=device, dtype=torch.float32)
        if timestep.dim() == 0:
            timestep = timestep.expand(batch)
        if timestep.shape != (batch,):
            raise SeedVRError(
                f"timestep must be a scalar or hold one value per clip ({batch}), got shape {tuple(timestep.shape)}."
            )
        return timestep

    def _temporal_tokens(self, features: torch.Tensor, layout: WindowLayout, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Resize encoder features onto the token grid; return (per-token, pooled) projections."""
        if features.dim() != 5 or features.shape[1] != frames:
            raise SeedVRError(
                f"temporal_features must be [B, {frames}, F, h, w] for a {frames}-frame clip, got shape {tuple(features.shape)}."
            )
        if features.shape[2] != self.config.temporal_feature_channels:
            raise SeedVRError(
                f"temporal_features have {features.shape[2]} channels but the denoiser expects "
                f"{self.config.temporal_feature_channels}."
            )
        volume = features.permute(0, 2, 1, 3, 4)  # [B, F, T, h, w]
        volume = F.interpolate(volume, size=layout.valid, mode="trilinear", align_corners=False)
        pad = [0, layout.grid[2] - layout.valid[2], 0, layout.grid[1] - layout.valid[1], 0, layout.grid[0] - layout.valid[0]]
        volume = F.pad(volume, pad, mode="replicate")
        tokens = self.temporal_proj(volume.permute(0, 2, 3, 4, 1))
        pooled = self.temporal_pool_proj(features.mean(dim=(1, 3, 4)))
        return tokens, pooled

    def forward(
        self,
        sample: torch.Tensor,
        timestep,
        masked_frames: torch.Tensor,
        mask: torch.Tensor,
        propagated: torch.Tensor,
        validity: torch.Tensor,
        spatial: torch.Tensor,
        temporal_features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the x0 estimate ``[B, T, 3, H, W]`` (``propagated`` + learned residual)."""
        batch, frames, height, width = check_video_tensors(
            sample=sample, masked_frames=masked_frames, mask=mask, propagated=propagated, validity=validity, spatial=spatial
        )
        for name, tensor, channels in (
            ("sample", sample, 3),
            ("masked_frames", masked_frames, 3),
            ("mask", mask, 1),
            ("propagated", propagated, 3),
            ("validity", validity, 1),
            ("spatial", spatial, 3),
        ):
            check_channels(name, tensor, channels)
        layout = self.plan(frames, height, width)
        dtype = self.patch_embed.proj.weight.dtype

        video = torch.cat([sample, masked_frames, mask, propagated, validity, spatial], dim=2).to(dtype)
        video = video.permute(0, 2, 1, 3, 4)  # [B, C, T, H, W]
        pad_t, pad_h, pad_w = (g * p - s for g, p, s in zip(layout.grid, self.patch_size, (frames, height, width)))
        if pad_t or pad_h or pad_w:
            # Replicate padding keeps boundary patches looking like image content, not black bars.
            video = F.pad(video, (0, pad_w, 0, pad_h, 0, pad_t), mode="replicate")
        tokens = self.patch_embed(video)  # [B, gt, gh, gw, D]

        cond = self.time_embed(self._timestep_batch(timestep, batch, sample.device))
        if temporal_features is not None and self.temporal_proj is not None:
            feature_tokens, pooled = self._temporal_tokens(temporal_features.to(dtype), layout, frames)
            tokens = tokens + feature_tokens
            cond = cond + pooled

        rope_cos, rope_sin = rotary_cos_sin(layout.grid, self.head_dim, device=tokens.device, dtype=tokens.dtype)
        masks = {shifted: window_attention_mask(layout, shifted=shifted, device=tokens.device) for shifted in (False, True)}
        ropes = {shifted: rope_tables_for(rope_cos, rope_sin, layout, shifted) for shifted in (False, True)}
        for block in self.blocks:
            arguments = (tokens, cond, *ropes[block.shifted], layout, masks[block.shifted])
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                tokens = self._gradient_checkpointing_func(block, *arguments)
            else:
                tokens = block(*arguments)

        patches = self.final_layer(tokens, cond)  # [B, gt, gh, gw, pt*ph*pw*C]
        residual = self._unpatchify(patches, layout)[:, :frames, :, :height, :width]
        return propagated + residual.to(propagated.dtype)

    def _unpatchify(self, patches: torch.Tensor, layout: WindowLayout) -> torch.Tensor:
        """``[B, gt, gh, gw, pt*ph*pw*C]`` -> ``[B, gt*pt, C, gh*ph, gw*pw]``."""
        b = patches.shape[0]
        gt, gh, gw = layout.grid
        pt, ph, pw = self.patch_size
        channels = RGB_CHANNELS
        x = patches.reshape(b, gt, gh, gw, pt, ph, pw, channels)
        x = x.permute(0, 1, 4, 7, 2, 5, 3, 6)
        return x.reshape(b, gt * pt, channels, gh * ph, gw * pw)
