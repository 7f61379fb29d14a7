"""Non-learned cues of film damage: what a blotch, a speck or a scratch does to the pixels.

The damage detector (:mod:`seedvr.models.detector`) reads these maps next to the frames; they
encode what restoration work has long used to find film damage without a mask:

* **Temporal spike** (SDI-style, "spike detection index"). Dirt and dust sit on one frame of
  the film and not on the next: after motion compensation a blotch is a spike in time. Frames
  ``t-1`` and ``t+1`` are warped onto frame ``t`` with the optical flow, and the cue is how far
  frame ``t`` lies *outside* the range ``[min, max]`` of the two compensated neighbours
  (zero inside it), split into a bright and a dark channel. Requiring frame ``t`` to be
  outside both neighbours, not merely far from one, is what keeps occlusions and flow errors
  (where one neighbour disagrees) from firing.
* **Thin line** (scratches). A scratch is a thin, near-vertical line that stays at nearly the
  same place for many frames: the pixel minus the median of its horizontal neighbours, then
  averaged down a short vertical run (a line is long, a speck is not) and over frames
  ``t-1, t, t+1`` (a scratch persists, noise does not). Signed: bright or dark line.

Shapes: frames ``uint8 [T, H, W, 3]`` (the video contract), cues ``float32 [T, CUE_CHANNELS,
H, W]`` in grey levels / 255, so about [-1, 1]. With fewer than 3 frames the temporal cue is
unavailable and left at zero (:func:`temporal_cue_available` tells the caller, who warns).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, estimate_video_flows
from seedvr.ops.warp import backward_warp
from seedvr.video_contract import check_video

#: Channels of :func:`damage_cues`: spike brighter than both neighbours, spike darker than
#: both, and the signed thin-line response.
CUE_NAMES: tuple[str, ...] = ("spike_bright", "spike_dark", "line")
CUE_CHANNELS = len(CUE_NAMES)

#: Fewest frames for which the temporal spike is measured (a frame and its two neighbours).
MIN_TEMPORAL_FRAMES = 3

# Horizontal neighbours on each side whose median is the "background" of a line: wider than
# the 1-3 pixel scratches at the sizes we work at, narrow enough to follow image edges.
_LINE_RADIUS = 3
# Rows a line response is averaged over: a scratch runs the whole frame, a speck a few rows.
_LINE_RUN = 9


def temporal_cue_available(frames: int) -> bool:
    """Whether a clip of ``frames`` frames gets a temporal spike cue (else it is zero)."""
    return frames >= MIN_TEMPORAL_FRAMES


def _grey(frames: np.ndarray) -> np.ndarray:
    """Luma ``float32 [T, H, W]`` in [0, 1]."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.float32(255.0)
    return frames.astype(np.float32) @ weights


def temporal_spike(frames: np.ndarray, max_side: int = DEFAULT_FLOW_MAX_SIDE) -> np.ndarray:
    """Bright and dark spike ``float32 [T, 2, H, W]``: how far each frame lies outside its neighbours.

    Neighbours are motion compensated with the flow of :func:`estimate_video_flows` (no
    masks: the damage is what we are looking for). The first and last frames have one
    neighbour, used on both sides. A neighbour sample that fell outside its frame is not
    trusted: the cue is zero there. Clips shorter than :data:`MIN_TEMPORAL_FRAMES` get zeros.
    """
    check_video(frames)
    count, height, width = frames.shape[:3]
    spike = np.zeros((count, 2, height, width), dtype=np.float32)
    if not temporal_cue_available(count):
        return spike
    forward, backward = estimate_video_flows(frames, masks=None, max_side=max_side)
    grey = torch.from_numpy(_grey(frames))[:, None]  # [T, 1, H, W]
    # frame[t] ≈ frame[t+1](p + forward[t]) and frame[t+1] ≈ frame[t](p + backward[t]).
    from_next, next_inside = backward_warp(grey[1:], torch.from_numpy(forward).permute(0, 3, 1, 2))
    from_previous, previous_inside = backward_warp(grey[:-1], torch.from_numpy(backward).permute(0, 3, 1, 2))
    for t in range(count):
        neighbours = []
        if t + 1 < count:
            neighbours.append((from_next[t, 0], next_inside[t, 0]))
        if t > 0:
            neighbours.append((from_previous[t - 1, 0], previous_inside[t - 1, 0]))
        values = torch.stack([value for value, _ in neighbours])
        trusted = torch.stack([inside for _, inside in neighbours]).amin(dim=0)
        current = grey[t, 0]
        spike[t, 0] = ((current - values.amax(dim=0)).clamp(min=0) * trusted).numpy()
        spike[t, 1] = ((values.amin(dim=0) - current).clamp(min=0) * trusted).numpy()
    return spike


def thin_line_response(frames: np.ndarray) -> np.ndarray:
    """Signed thin-line response ``float32 [T, H, W]``: positive on bright lines, negative on dark.

    Per frame: grey minus the median of the ``2 * _LINE_RADIUS + 1`` pixels around it on its
    row (borders reflected), averaged over ``_LINE_RUN`` rows; then averaged over frames
    ``t-1, t, t+1`` (those that exist).
    """
    check_video(frames)
    grey = _grey(frames)
    count, height, width = grey.shape
    padded = np.pad(grey, ((0, 0), (0, 0), (_LINE_RADIUS, _LINE_RADIUS)), mode="reflect")
    shifted = np.stack([padded[:, :, offset : offset + width] for offset in range(2 * _LINE_RADIUS + 1)])
    detail = grey - np.median(shifted, axis=0)
    runs = np.stack([cv2.blur(frame, (1, _LINE_RUN), borderType=cv2.BORDER_REFLECT) for frame in detail])
    summed = runs.copy()
    summed[1:] += runs[:-1]
    summed[:-1] += runs[1:]
    neighbours = np.full(count, 3.0, dtype=np.float32)
    neighbours[0] -= 1.0
    neighbours[-1] -= 1.0
    return summed / np.maximum(neighbours, 1.0)[:, None, None]


def damage_cues(frames: np.ndarray, max_side: int = DEFAULT_FLOW_MAX_SIDE) -> np.ndarray:
    """All cue maps ``float32 [T, CUE_CHANNELS, H, W]`` of a clip, channels as :data:`CUE_NAMES`."""
    spike = temporal_spike(frames, max_side)
    line = thin_line_response(frames)
    return np.concatenate([spike, line[:, None]], axis=1)
