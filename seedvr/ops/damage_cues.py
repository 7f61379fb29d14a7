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
* **Persistent outlier** over frames ``t-2 .. t+2``. A blotch that sticks for two frames is
  inside the range of its neighbours in both of them (the other frame carries it too), so
  the spike misses it; and the frame *after* any blotch differs from its previous neighbour
  just as much as the blotched frame does, so a difference to one neighbour cannot tell the
  two apart (measured: most false detections of a first version sat there). With four
  compensated neighbours it can: the cue is the second smallest absolute difference between
  frame ``t`` and its neighbours (signed by their mean), high only when frame ``t`` differs
  from all its neighbours but at most one, as a blotched frame does and a clean one after it
  does not.
* **Thin line** (scratches). A scratch is a thin, near-vertical line that stays at nearly the
  same place for many frames: the pixel minus the median of its horizontal neighbours, then
  averaged down a short vertical run (a line is long, a speck is not) and over frames
  ``t-1, t, t+1`` (a scratch persists, noise does not). Signed: bright or dark line.
* **Colour line**. A scratch through the emulsion of colour film takes away some of its dye
  layers: a green, cyan or magenta line whose brightness may be the picture's, so the luma line
  above barely sees it (a green line of (40, 220, 60) on vtest's pavement: 29 grey levels
  against 103 here). The same line response per colour channel, its largest magnitude.

Shapes: frames ``uint8 [T, H, W, 3]`` (the video contract), cues ``float32 [T, CUE_CHANNELS,
H, W]`` in grey levels / 255, so about [-1, 1]. A detector reads the first of them its config
names (``cue_channels``): one trained before the colour line reads the first four. With fewer than 3 frames the temporal cue is
unavailable and left at zero (:func:`temporal_cue_available` tells the caller, who warns).
The cues of frame ``t`` read frames ``t-2 .. t+2`` only, so a stream cut into chunks with two
frames of context on each side gets exactly the cues of the whole clip.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from seedvr.errors import SeedVRError
from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, estimate_video_flows
from seedvr.ops.warp import backward_warp
from seedvr.video_contract import check_video

#: Channels of :func:`damage_cues`: spike brighter than both neighbours, spike darker than
#: both, the signed persistent outlier, the signed thin-line response and the colour line's
#: magnitude. The first three are the temporal cue. New cues go last, so a detector that reads
#: the first few reads what it was trained on.
CUE_NAMES: tuple[str, ...] = ("spike_bright", "spike_dark", "outlier", "line", "colour_line")
TEMPORAL_CUES = 3
#: The cues of the detectors trained before the colour line (the first four).
LUMA_CUE_CHANNELS = 4
#: Frames on each side of ``t`` that its cues read.
CUE_REACH = 2
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


def _compensated_neighbours(frames: np.ndarray, grey: torch.Tensor, max_side: int) -> dict[int, np.ndarray]:
    """``{offset: float32 [T, H, W]}`` for offsets ``-2, -1, 1, 2``: frame ``t + offset`` warped
    onto frame ``t``; ``nan`` where that frame does not exist or the sample fell outside it.

    Flows at stride 2 are those of :func:`estimate_video_flows` on every other frame.
    """
    count = len(frames)
    warped = {offset: np.full(grey.shape[:1] + grey.shape[2:], np.nan, np.float32) for offset in (-2, -1, 1, 2)}
    for stride in (1, 2):
        for start in range(stride):
            index = np.arange(start, count, stride)
            if len(index) < 2:
                continue
            forward, backward = estimate_video_flows(frames[index], masks=None, max_side=max_side)
            # frame[a] ≈ frame[b](p + forward) and frame[b] ≈ frame[a](p + backward), b = a + stride.
            for offset, sources, targets, flow in (
                (stride, index[1:], index[:-1], forward),
                (-stride, index[:-1], index[1:], backward),
            ):
                values, inside = backward_warp(grey[sources], torch.from_numpy(flow).permute(0, 3, 1, 2))
                warped[offset][targets] = torch.where(inside > 0, values, torch.nan)[:, 0].numpy()
    return warped


def temporal_cues(frames: np.ndarray, max_side: int = DEFAULT_FLOW_MAX_SIDE) -> np.ndarray:
    """The temporal cue ``float32 [T, TEMPORAL_CUES, H, W]``: bright and dark spike, persistent outlier.

    Neighbours are motion compensated with the flow of :func:`estimate_video_flows` (no
    masks: the damage is what we are looking for); a sample that fell outside its frame is
    not used. The spike uses ``t-1`` and ``t+1`` (one of them at the clip's ends); the outlier
    all of ``t-2 .. t+2`` there are (the smallest difference when only two are). Where fewer
    neighbours than that are usable, the cue is zero. Clips shorter than
    :data:`MIN_TEMPORAL_FRAMES` get zeros.
    """
    check_video(frames)
    count, height, width = frames.shape[:3]
    cue = np.zeros((count, TEMPORAL_CUES, height, width), dtype=np.float32)
    if not temporal_cue_available(count):
        return cue
    grey = torch.from_numpy(_grey(frames))[:, None]  # [T, 1, H, W]
    current = grey[:, 0].numpy()
    warped = _compensated_neighbours(frames, grey, max_side)
    near = np.stack([warped[-1], warped[1]])
    # At the clip's ends the missing near neighbour is replaced by the other one; a sample that
    # fell outside its frame is not (the spike is then nan, hence zero, as it is unknown).
    near[0, 0], near[1, -1] = near[1, 0], near[0, -1]
    with np.errstate(invalid="ignore"):
        cue[:, 0] = np.nan_to_num(np.clip(current - np.max(near, axis=0), 0.0, None))
        cue[:, 1] = np.nan_to_num(np.clip(np.min(near, axis=0) - current, 0.0, None))
        differences = current[None] - np.stack([warped[offset] for offset in (-2, -1, 1, 2)])
        usable = np.count_nonzero(~np.isnan(differences), axis=0)
        ranked = np.sort(np.abs(differences), axis=0)  # nan sorts last
        magnitude = np.where(usable >= 3, ranked[1], ranked[0])
        mean = np.nan_to_num(differences).sum(axis=0) / np.maximum(usable, 1)
        signed = np.sign(mean) * magnitude
    cue[:, 2] = np.where(usable >= 2, np.nan_to_num(signed), 0.0)
    return cue


def thin_line_response(frames: np.ndarray) -> np.ndarray:
    """Signed thin-line response ``float32 [T, H, W]`` of the luma: positive on bright lines,
    negative on dark (:func:`_line_response`)."""
    check_video(frames)
    return _line_response(_grey(frames))


def colour_line_response(frames: np.ndarray) -> np.ndarray:
    """Colour-line cue ``float32 [T, H, W]``: the largest magnitude of the thin-line response
    (:func:`_line_response`) over the three colour channels."""
    check_video(frames)
    scale = np.float32(1.0 / 255.0)
    return np.max([np.abs(_line_response(frames[..., channel].astype(np.float32) * scale)) for channel in range(3)], axis=0)


def _line_response(grey: np.ndarray) -> np.ndarray:
    """Per frame of ``grey`` (``float32 [T, H, W]`` in [0, 1]): the pixel minus the median of the
    ``2 * _LINE_RADIUS + 1`` pixels around it on its row (borders reflected), averaged over
    ``_LINE_RUN`` rows; then averaged over frames ``t-1, t, t+1`` (those that exist)."""
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


def damage_cues(frames: np.ndarray, max_side: int = DEFAULT_FLOW_MAX_SIDE, channels: int = CUE_CHANNELS) -> np.ndarray:
    """The first ``channels`` cue maps ``float32 [T, channels, H, W]`` of a clip, as :data:`CUE_NAMES`
    (a detector's ``cue_channels``; only those are computed)."""
    check_cue_channels(channels)
    maps = [temporal_cues(frames, max_side), thin_line_response(frames)[:, None]]
    if channels > LUMA_CUE_CHANNELS:
        maps.append(colour_line_response(frames)[:, None])
    return np.concatenate(maps, axis=1)


#: The cue counts a detector may read: the four luma cues, then each later cue in turn.
CUE_COUNTS: tuple[int, ...] = tuple(range(LUMA_CUE_CHANNELS, CUE_CHANNELS + 1))


def check_cue_channels(channels: int) -> None:
    """Refuse a cue count no detector reads (:data:`CUE_COUNTS`)."""
    if channels not in CUE_COUNTS:
        raise SeedVRError(f"a detector reads {' or '.join(map(str, CUE_COUNTS))} cue maps, not {channels}")
