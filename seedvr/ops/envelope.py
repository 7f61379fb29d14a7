"""Bound the model's correction of the guess by what the guess shows along the motion.

The refinement networks sometimes move a hole pixel far from anything the neighbouring frames
show there: on foliage they add texture read from the current frame, on a logo's fill they
shift its colour, and a value that no nearby frame supports also flickers. Temporal
anti-aliasing has the same problem with reprojected history and bounds it by the range of
the current neighbourhood; here the bound comes the other way round. The *temporal envelope*
of a frame of the guess is, per pixel and channel, the range of the guess itself and of its
two neighbouring frames warped onto it along the flow measured on the guess. The repair may
move a hole pixel away from the guess only a share (:data:`CORRECTION_SHARE`) of the way to
the envelope's edges: where the guess and its neighbours agree (a still background), the
guess stands; where they spread (motion the flow does not follow exactly), the model has room.

Measured on 24-frame windows at 432x240 with the shipped weights (docs/findings/real-footage.md,
"Bounded by the guess' neighbours"): the model against its guess, PSNR / E_warp inside the
mask (x1e-3), on the real-footage benchmark's 11 small cases 29.841 / 1.480 -> 29.890 / 1.410
(the guess: 29.868 / 1.453), on 12 clips of real video outside its frames 31.496 / 0.881 ->
31.599 / 0.843 (the guess: 31.587 / 0.879).
"""

from __future__ import annotations

import numpy as np
import torch

from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, farneback_flow
from seedvr.ops.warp import backward_warp

#: Share of the way from the guess to the envelope's edges the repair may go. Measured as
#: above at 0.25 / 0.5 / 0.75 / 1: 29.893 / 29.890 / 29.886 / 29.883 dB on the benchmark's
#: cases, 31.605 / 31.599 / 31.590 / 31.587 on the other clips; 1 plus a margin of 2 or 4 grey
#: levels: 29.861 and 29.856, 31.505 and 31.493 (the corrections beyond the envelope cost).
CORRECTION_SHARE = 0.5


def _tensor(image: np.ndarray) -> torch.Tensor:
    """``[H, W, C]`` (a frame or a flow) -> float32 ``[1, C, H, W]``."""
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)


def bound_by_temporal_envelope(
    repaired: np.ndarray,
    guess: np.ndarray,
    masks: np.ndarray,
    share: float = CORRECTION_SHARE,
    flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    flows: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``repaired`` (``uint8 [T, H, W, 3]``) with every hole pixel (``masks`` ``[T, H, W]``,
    true = hole) moved back toward ``guess`` until, per channel, it lies no farther from it
    than ``share`` of the way to the edges of the guess' temporal envelope (see the module
    doc). Pixels outside the holes, and hole pixels within the bound, are returned as they are.
    ``flows``: the guess' ``(forward, backward)`` flows when at hand (as
    :func:`~seedvr.ops.flow.estimate_video_flows` gives them); otherwise each frame with holes
    has its two flows measured (:func:`~seedvr.ops.flow.farneback_flow` at ``flow_max_side``,
    the default estimator), one frame at a time, so memory holds two flows, not the clip's.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    count = guess.shape[0]
    if count < 2 or not masks.any():
        return repaired.copy()  # a single frame has no motion to bound the correction by

    def flow_to(t: int, other: int) -> np.ndarray:
        """The flow from frame t that samples frame ``other`` (one step away)."""
        if flows is None:
            return farneback_flow(guess[t], guess[other], flow_max_side)
        forward, backward = flows
        return forward[t] if other > t else backward[other]

    bounded = repaired.copy()
    for t in np.flatnonzero(masks.reshape(count, -1).any(axis=1)):
        centre = _tensor(guess[t])
        low, high = centre.clone(), centre.clone()
        for other in (t - 1, t + 1):
            if 0 <= other < count:
                warped, _ = backward_warp(_tensor(guess[other]), _tensor(flow_to(t, other)))
                low, high = torch.minimum(low, warped), torch.maximum(high, warped)
        low = centre + share * (low - centre)
        high = centre + share * (high - centre)
        clipped = torch.maximum(torch.minimum(_tensor(repaired[t]), high), low)
        values = clipped.round().clamp(0, 255)[0].permute(1, 2, 0).numpy().astype(np.uint8)
        bounded[t] = np.where(masks[t][..., None], values, repaired[t])
    return bounded
