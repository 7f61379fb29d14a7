"""Embeddings shared by the video models: timesteps, 3D patches and rotary positions.

Rotary position embeddings (RoPE) are used instead of learned position tables because the
models must work at any clip length and frame size: RoPE needs no parameters, encodes only
*relative* offsets inside an attention window, and extends to unseen sizes for free.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal features ``[N, dim]`` of (possibly fractional) diffusion timesteps ``[N]``."""
    half = dim // 2
    exponents = -math.log(max_period) * torch.arange(half, device=timesteps.device, dtype=torch.float32) / half
    angles = timesteps.float()[:, None] * torch.exp(exponents)[None, :]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        # An odd width gets one zero column so callers can pick any size.
        embedding = F.pad(embedding, (0, 1))
    return embedding


class TimestepEmbedder(nn.Module):
    """Timestep -> sinusoidal features -> two-layer MLP, as in DiT."""

    def __init__(self, hidden_size: int, frequency_dim: int = 256):
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(
            nn.Linear(frequency_dim, hidden_size),
            nn.SiLU(),
            nn.Linear(hidden_size, hidden_size),
        )

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        features = sinusoidal_timestep_embedding(timesteps, self.frequency_dim)
        return self.mlp(features.to(self.mlp[0].weight.dtype))


class PatchEmbed3D(nn.Module):
    """Cut a video ``[B, C, T, H, W]`` into non-overlapping ``(pt, ph, pw)`` patches.

    A strided 3D convolution is exactly a linear map applied to every flattened patch.
    Returns tokens on their grid, channels last: ``[B, t, h, w, hidden]``.
    """

    def __init__(self, in_channels: int, hidden_size: int, patch_size: tuple[int, int, int]):
        super().__init__()
        self.patch_size = tuple(patch_size)
        self.proj = nn.Conv3d(in_channels, hidden_size, kernel_size=self.patch_size, stride=self.patch_size)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.proj(video).permute(0, 2, 3, 4, 1)


def _split_rotary_pairs(head_dim: int, num_axes: int) -> list[int]:
    """How many rotary (cos, sin) pairs each axis gets; the first axis (time) gets the fewest."""
    pairs = head_dim // 2
    base = pairs // num_axes
    split = [base] * num_axes
    # Spatial axes take the remainder: images carry more positional detail than short clips.
    for index in range(pairs - base * num_axes):
        split[num_axes - 1 - index] += 1
    return split


def rotary_angles(grid: tuple[int, ...], head_dim: int, theta: float = 10000.0, device=None) -> torch.Tensor:
    """Rotation angles ``[*grid, head_dim // 2]`` for tokens on an N-dimensional grid.

    Each axis owns a slice of the head dimension and rotates it by ``position * frequency``.
    """
    if head_dim % 2:
        raise ValueError(f"rotary embeddings need an even head dimension, got {head_dim}")
    per_axis = _split_rotary_pairs(head_dim, len(grid))
    angle_parts = []
    for axis, (length, pairs) in enumerate(zip(grid, per_axis)):
        if pairs == 0:
            continue
        inv_freq = theta ** (-torch.arange(pairs, device=device, dtype=torch.float32) / pairs)
        positions = torch.arange(length, device=device, dtype=torch.float32)
        angles = positions[:, None] * inv_freq[None, :]
        shape = [1] * len(grid) + [pairs]
        shape[axis] = length
        angle_parts.append(angles.view(shape).expand(*grid, pairs))
    return torch.cat(angle_parts, dim=-1)


def rotary_cos_sin(grid: tuple[int, ...], head_dim: int, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` tables ``[*grid, head_dim]`` in the "rotate half" layout."""
    angles = rotary_angles(grid, head_dim, device=device)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate query/key vectors ``x[..., head_dim]``; ``cos``/``sin`` broadcast against ``x``."""
    first, second = x.chunk(2, dim=-1)
    rotated_half = torch.cat([-second, first], dim=-1)
    return x * cos + rotated_half * sin
