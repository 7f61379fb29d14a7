"""Settled hole pixels: the fill already shows what the same place shows, undamaged, nearby.

Where the camera and the background keep still, propagation copies a hole pixel from the
same place in a neighbouring frame, exactly. The refinement networks cannot improve such a
pixel, only move it: measured on 18 clips of real video outside the benchmark's frames
(docs/findings/real-footage.md, "Settled pixels"), refining them cost -2.3 dB on a dust clip and
-1.3 dB on a stroke clip whose fills were already at 41-49 dB. A hole pixel is *settled* when
the nearest frame (within ``reach`` frames, earlier first at equal distance) where the same
pixel is known agrees with the fill within ``levels`` grey levels on every channel.
"""

from __future__ import annotations

import torch

#: Largest difference, in grey levels of 255, between a fill and its undamaged neighbour for
#: the pixel to count as settled. Chosen on the 18 held-out clips (mean gain of the model
#: over its guess: 8 levels +0.10 dB, 16 +0.13, 32 +0.13, every pixel -0.13).
SETTLED_LEVELS = 16.0

#: Frames searched on each side for the same pixel undamaged.
SETTLED_REACH = 8


def nearest_known(frames: torch.Tensor, mask: torch.Tensor, reach: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For every hole pixel of ``frames`` ``[B, T, C, H, W]`` (``mask`` ``[B, T, 1, H, W]``,
    1 = hole), the value of the same pixel in the nearest frame within ``reach`` where it is
    known, and where such a frame was found (``bool [B, T, 1, H, W]``)."""
    hole = mask > 0.5
    values = torch.zeros_like(frames)
    found = torch.zeros_like(hole)
    length = frames.shape[1]
    for distance in range(1, min(reach, length - 1) + 1):
        for shift in (-distance, distance):
            # Frame t reads frame t + shift; dst and src are the frames where both exist.
            dst = slice(max(0, -shift), length - max(0, shift))
            src = slice(max(0, shift), length - max(0, -shift))
            take = hole[:, dst] & ~found[:, dst] & ~hole[:, src]
            values[:, dst] = torch.where(take, frames[:, src], values[:, dst])
            found[:, dst] |= take
    return values, found


def settled_pixels(
    estimate: torch.Tensor,
    frames: torch.Tensor,
    mask: torch.Tensor,
    levels: float = SETTLED_LEVELS,
    reach: int = SETTLED_REACH,
) -> torch.Tensor:
    """``bool [B, T, 1, H, W]``: hole pixels of ``estimate`` (in [-1, 1]) within ``levels``
    grey levels of the same pixel known in a frame of ``frames`` at most ``reach`` away."""
    known, found = nearest_known(frames, mask, reach)
    difference = (estimate - known).abs().amax(dim=2, keepdim=True)
    return found & (difference <= levels / 127.5)
