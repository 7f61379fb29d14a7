"""DamageDetector: where in frame ``t`` is there film damage (scratch, blotch, dust)?

A small U-Net (about 120k parameters at the default width) over frame ``t`` with its
neighbours ``t-1`` and ``t+1`` (images in [-1, 1]) and the non-learned cue maps of
:mod:`seedvr.ops.damage_cues` (temporal spike after motion compensation, thin-line
response, colour line). It gives one logit per pixel of frame ``t``. The cues carry what is hard for a net
this small to learn on its own (motion compensation, long-range line evidence); the net
learns which cue to trust where (texture, edges, occlusions) and the exact outline.

Why this size: damage is local (a speck, a 1-3 pixel line, a blotch of a few tens of pixels),
so three scales of 3x3 convolutions see enough context, and the net runs at full resolution
on a CPU (about 0.1 s per 432x240 frame on one thread). Its last layer's bias starts at the
log-odds of a rare class, so an untrained net flags almost nothing instead of half the frame.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from seedvr.errors import SeedVRError
from seedvr.ops.damage_cues import CUE_CHANNELS, check_cue_channels

#: Frames the detector sees for frame ``t``: ``t-1``, ``t``, ``t+1``.
CONTEXT_FRAMES = 3
# Share of damaged pixels the head's bias starts at (film damage covers a few percent).
_PRIOR_DAMAGE = 0.01
# Downsamplings of the U-Net: inputs are padded to a multiple of 2 ** _LEVELS.
_LEVELS = 2


def neighbour_stack(frames: np.ndarray) -> torch.Tensor:
    """``float32 [T, CONTEXT_FRAMES, 3, H, W]`` in [-1, 1]: frames ``t-1, t, t+1`` for every ``t``.

    ``frames`` is ``uint8 [T, H, W, 3]``; at the clip ends the missing neighbour repeats the
    end frame (a one-frame clip sees itself three times).
    """
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    count = video.shape[0]
    index = torch.arange(count)
    around = torch.stack([(index - 1).clamp(min=0), index, (index + 1).clamp(max=count - 1)], dim=1)
    return video[around]


class _DoubleConv(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1),
            nn.SiLU(),
        )


class DamageDetector(ModelMixin, ConfigMixin):
    """Per-pixel damage logits of frame ``t`` from frames ``t-1, t, t+1`` and the cue maps.

    Args:
        channels: width at full resolution (doubled at each of the two coarser levels).
        cue_channels: cue maps given with each frame (:data:`~seedvr.ops.damage_cues.CUE_CHANNELS`).
    """

    @register_to_config
    def __init__(self, channels: int = 16, cue_channels: int = CUE_CHANNELS):
        super().__init__()
        if channels < 4:
            raise SeedVRError(f"channels must be at least 4, got {channels}")
        check_cue_channels(cue_channels)
        inputs = 3 * CONTEXT_FRAMES + cue_channels
        widths = [channels * 2**level for level in range(_LEVELS + 1)]
        self.encoders = nn.ModuleList([_DoubleConv(inputs, widths[0])])
        self.encoders.extend(_DoubleConv(widths[level - 1], widths[level]) for level in range(1, _LEVELS + 1))
        self.decoders = nn.ModuleList(
            _DoubleConv(widths[level + 1] + widths[level], widths[level]) for level in reversed(range(_LEVELS))
        )
        self.head = nn.Conv2d(widths[0], 1, kernel_size=1)
        nn.init.constant_(self.head.bias, math.log(_PRIOR_DAMAGE / (1.0 - _PRIOR_DAMAGE)))

    def forward(self, frames: torch.Tensor, cues: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, H, W]`` for ``frames [B, CONTEXT_FRAMES, 3, H, W]`` and ``cues [B, C, H, W]``."""
        if frames.ndim != 5 or frames.shape[1:3] != (CONTEXT_FRAMES, 3):
            raise SeedVRError(f"frames must be [B, {CONTEXT_FRAMES}, 3, H, W], got {tuple(frames.shape)}")
        batch, _, _, height, width = frames.shape
        expected = (batch, self.config.cue_channels, height, width)
        if tuple(cues.shape) != expected:
            raise SeedVRError(f"cues must be {list(expected)}, got {list(cues.shape)}")
        dtype = self.head.weight.dtype
        x = torch.cat([frames.reshape(batch, 3 * CONTEXT_FRAMES, height, width), cues], dim=1).to(dtype)
        multiple = 2**_LEVELS
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x if level == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        for decoder, skip in zip(self.decoders, reversed(skips[:-1])):
            x = decoder(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="nearest"), skip], dim=1))
        return self.head(x)[:, 0, :height, :width]


def new_detector(seed: int, **config) -> DamageDetector:
    """A freshly initialised :class:`DamageDetector`: the same ``seed`` gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DamageDetector(**config)


def with_cue_channels(detector: DamageDetector, cue_channels: int) -> DamageDetector:
    """``detector`` reading ``cue_channels`` cue maps: itself when it reads that many or more,
    else a copy whose first convolution takes the new maps with zero weights, so it gives the
    same logits until training teaches it to use them (a leg that adds a cue)."""
    check_cue_channels(cue_channels)
    if cue_channels <= detector.config.cue_channels:
        return detector
    widened = DamageDetector(channels=detector.config.channels, cue_channels=cue_channels)
    state = detector.state_dict()
    first = "encoders.0.0.weight"
    weight = state[first]
    added = torch.zeros(weight.shape[0], cue_channels - detector.config.cue_channels, *weight.shape[2:], dtype=weight.dtype)
    state[first] = torch.cat([weight, added], dim=1)
    widened.load_state_dict(state)
    return widened.to(detector.device).train(detector.training)
