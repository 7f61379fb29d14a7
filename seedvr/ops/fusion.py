"""Propagation under several flow hypotheses, fused (the article's optical-flow fusion).

The flow inside a hole cannot be measured, only completed, and propagation is very sensitive
to how: on the real-footage cases, changing the flow's working size or how far the hole is
grown before completion moves single cases by up to 3 dB, with no setting best everywhere.
Each hypothesis is wrong in different places, so their mean is closer to the truth than any
one of them (measured, propagation alone, 12 cases of ``benchmarks/bench_quality.py``:
9 hypotheses 24.76 dB vs 23.24 dB for the single default flow; better on 11 of the 12,
measured with the harmonic completion alone, before the temporal completion of
:func:`seedvr.ops.flow.temporal_completion`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seedvr.ops.flow import DEFAULT_FLOW_MAX_SIDE, DEFAULT_HOLE_DILATION, PairFlowMemo, flows_per_dilation, reduced_size
from seedvr.ops.propagation import propagation_guess

#: (flow working size as a multiple of ``flow_max_side``, hole dilation in reduced pixels).
#: The first is the single-flow default: its flow is the one the learned stages read.
FLOW_HYPOTHESES: tuple[tuple[float, int], ...] = ((1.0, DEFAULT_HOLE_DILATION),) + tuple(
    (scale, dilation)
    for scale in (0.625, 1.0, 1.5)
    for dilation in (2, 5, DEFAULT_HOLE_DILATION)
    if (scale, dilation) != (1.0, DEFAULT_HOLE_DILATION)
)


@dataclass
class FusedPropagation:
    """The fused guess and what it was made from (video contract shapes)."""

    guess: np.ndarray  # uint8 [T, H, W, 3]: mean of the hypotheses' guesses, exact outside the holes
    validity: np.ndarray  # bool [T, H, W]: known, or propagated under most hypotheses
    forward_flow: np.ndarray  # float32 [T-1, H, W, 2]: the default hypothesis' flow
    backward_flow: np.ndarray


def fused_propagation(
    frames: np.ndarray,
    masks: np.ndarray,
    flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    hypotheses: tuple[tuple[float, int], ...] = FLOW_HYPOTHESES,
    memo: PairFlowMemo | None = None,
) -> FusedPropagation:
    """Propagate ``frames`` into ``masks`` (bool ``[T, H, W]``) under every flow hypothesis and fuse.

    Hypotheses that land on the same working size (small frames: nothing is shrunk) are
    computed once and keep their weight in the mean; the frame pairs are measured once per
    working size, whatever the dilations. The mean is accumulated, so memory stays at one
    float copy of the clip however many hypotheses there are. ``memo`` (one per stream of
    windows) spares re-measuring the frame pairs the previous window shared with this one.
    """
    height, width = frames.shape[1:3]
    weights: dict[tuple[int, int], dict[int, int]] = {}  # working size -> dilation -> weight
    for scale, dilation in hypotheses:
        size = reduced_size(height, width, max(8, round(flow_max_side * scale)))
        weights.setdefault(size, {})
        weights[size][dilation] = weights[size].get(dilation, 0) + 1
    first_size = reduced_size(height, width, max(8, round(flow_max_side * hypotheses[0][0])))
    total = np.zeros(frames.shape, dtype=np.float32)
    votes = np.zeros(masks.shape, dtype=np.int32)
    default_flows = None
    for size, by_dilation in weights.items():
        side = max(size)
        for dilation, flows in flows_per_dilation(frames, masks, side, tuple(by_dilation), memo):
            guess, validity = propagation_guess(frames, masks, max_side=side, flows=flows)
            total += by_dilation[dilation] * guess.astype(np.float32)
            votes += by_dilation[dilation] * validity
            if (size, dilation) == (first_size, hypotheses[0][1]):
                default_flows = flows
    fused = np.clip(np.rint(total / len(hypotheses)), 0, 255).astype(np.uint8)
    fused = np.where(masks.astype(bool)[..., None], fused, frames)
    return FusedPropagation(fused, 2 * votes > len(hypotheses), *default_flows)
