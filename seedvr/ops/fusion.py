"""Propagation under several flow hypotheses, fused (the article's optical-flow fusion).

The flow inside a hole cannot be measured, only completed, and propagation is very sensitive
to how: on the real-footage cases, changing the flow's estimator, its working size or how far
the hole is grown before completion moves single cases by up to 3 dB, with no setting best
everywhere.
Each hypothesis is wrong in different places, so their mean is closer to the truth than any
one of them (measured, propagation alone, 12 cases of ``benchmarks/bench_quality.py``:
9 hypotheses 24.76 dB vs 23.24 dB for the single default flow; better on 11 of the 12,
measured with the harmonic completion alone, before the temporal completion of
:func:`seedvr.ops.flow.temporal_completion`).

The mean is weighted, per pixel, by how well each hypothesis' fill continues the known
pixels at the nearest hole border (:class:`seedvr.ops.seams.HoleBorders`): a wrong flow
shows as a seam there, so a hypothesis that leaves one counts less in the hole behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seedvr.ops.flow import (
    DEFAULT_FLOW_ESTIMATOR,
    DEFAULT_FLOW_MAX_SIDE,
    DEFAULT_HOLE_DILATION,
    FLOW_ESTIMATORS,
    PairFlowMemo,
    check_estimator,
    flows_per_dilation,
    reduced_size,
)
from seedvr.ops.propagation import propagation_guess
from seedvr.ops.seams import HoleBorders

#: (flow estimator, working size as a multiple of ``flow_max_side``, hole dilation in reduced
#: pixels). The first is the single-flow default: its flow is the one the learned stages read.
#: DIS measures the same nine settings as Farneback: alone it is no better (-0.18 dB inside the
#: mask on the real-footage benchmark, +0.16 dB on 10 clips of real video outside its frames),
#: but its errors fall elsewhere, and the eighteen fused gain +0.18 dB on the benchmark and
#: +0.28 dB on those 10 clips over Farneback's nine, for about twice the flow work.
FLOW_HYPOTHESES: tuple[tuple[str, float, int], ...] = ((DEFAULT_FLOW_ESTIMATOR, 1.0, DEFAULT_HOLE_DILATION),) + tuple(
    (estimator, scale, dilation)
    for estimator in FLOW_ESTIMATORS
    for scale in (0.625, 1.0, 1.5)
    for dilation in (2, 5, DEFAULT_HOLE_DILATION)
    if (estimator, scale, dilation) != (DEFAULT_FLOW_ESTIMATOR, 1.0, DEFAULT_HOLE_DILATION)
)

# Seam weighting: a hypothesis' weight is exp(-seam / SEAM_TEMPERATURE), its seam (grey levels)
# spread over SEAM_SPREAD pixels from the border. Chosen on 80 clips of real video outside the
# benchmark's frames (vtest, box, cup; every damage kind): +0.21 dB on average over the plain
# mean, inside the mask, where spreads of 3 and 12 and temperatures of 5 and 20 gave +0.06 to
# +0.22 dB. The exponent is capped so the weights of a pixel never all underflow to zero.
SEAM_SPREAD = 6.0
SEAM_TEMPERATURE = 10.0
_MAX_SEAM_EXPONENT = 60.0


# Weights chosen frame by frame flicker: the seam is averaged over the holes of the frames up
# to this far on either side. On four real-footage cases (stroke, logo, object, scratch) the
# warping error inside the mask rose 10-30 % over the plain mean with per-frame weights; with
# +-2 frames the rise is a third of that, at the same PSNR (within 0.1 dB).
SEAM_FRAMES = 2


def _temporal_hole_mean(values: np.ndarray, masks: np.ndarray, reach: int) -> np.ndarray:
    """Per pixel, the mean of ``values`` over the frames within ``reach`` where it is a hole."""
    total, count = np.zeros_like(values), np.zeros(values.shape, dtype=np.float32)
    frames = len(values)
    for shift in range(-reach, reach + 1):
        source = slice(max(0, shift), frames + min(0, shift))
        target = slice(max(0, -shift), frames + min(0, -shift))
        total[target] += values[source]
        count[target] += masks[source]
    return np.where(masks, total / np.maximum(count, 1.0), 0.0).astype(np.float32)


def seam_borders(frames: np.ndarray, masks: np.ndarray) -> HoleBorders:
    """The hole borders every hypothesis of ``frames`` in ``masks`` is judged against."""
    return HoleBorders(frames, masks, SEAM_SPREAD)


def seam_weight(fill: np.ndarray, borders: HoleBorders) -> np.ndarray:
    """Weight ``float32 [T, H, W]`` of one hypothesis' ``fill`` in the fused mean (1 with no seam)."""
    seam = _temporal_hole_mean(borders.mismatch(fill), borders.masks, SEAM_FRAMES)
    return np.exp(-np.minimum(seam / SEAM_TEMPERATURE, _MAX_SEAM_EXPONENT))


@dataclass
class FusedPropagation:
    """The fused guess and what it was made from (video contract shapes)."""

    guess: np.ndarray  # uint8 [T, H, W, 3]: seam-weighted mean of the hypotheses' guesses, exact outside the holes
    validity: np.ndarray  # bool [T, H, W]: known, or propagated under most hypotheses
    forward_flow: np.ndarray  # float32 [T-1, H, W, 2]: the default hypothesis' flow
    backward_flow: np.ndarray


def fused_propagation(
    frames: np.ndarray,
    masks: np.ndarray,
    flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    hypotheses: tuple[tuple[str, float, int], ...] = FLOW_HYPOTHESES,
    memo: PairFlowMemo | None = None,
) -> FusedPropagation:
    """Propagate ``frames`` into ``masks`` (bool ``[T, H, W]``) under every flow hypothesis and fuse.

    Hypotheses that land on the same estimator and working size (small frames: nothing is
    shrunk) are computed once and keep their weight in the mean; the frame pairs are measured
    once per estimator and working size, whatever the dilations. The weighted mean (see the
    module docstring) is accumulated, so memory stays at one float copy of the clip and a few
    numbers per pixel (the weights, the votes, the hole borders' spread) however many
    hypotheses there are. ``memo`` (one per stream of windows) spares re-measuring the frame
    pairs the previous window shared with this one.
    """
    height, width = frames.shape[1:3]

    def measured_as(estimator: str, scale: float) -> tuple[str, tuple[int, int]]:
        check_estimator(estimator)
        return estimator, reduced_size(height, width, max(8, round(flow_max_side * scale)))

    weights: dict[tuple[str, tuple[int, int]], dict[int, int]] = {}  # (estimator, size) -> dilation -> weight
    for estimator, scale, dilation in hypotheses:
        by_dilation = weights.setdefault(measured_as(estimator, scale), {})
        by_dilation[dilation] = by_dilation.get(dilation, 0) + 1
    first = (measured_as(*hypotheses[0][:2]), hypotheses[0][2])
    masks = masks.astype(bool, copy=False)
    total = np.zeros(frames.shape, dtype=np.float32)
    total_weight = np.zeros(masks.shape, dtype=np.float32)
    borders = seam_borders(frames, masks)
    votes = np.zeros(masks.shape, dtype=np.int32)
    default_flows = None
    for (estimator, size), by_dilation in weights.items():
        side = max(size)
        for dilation, flows in flows_per_dilation(frames, masks, side, tuple(by_dilation), memo, estimator):
            guess, validity = propagation_guess(frames, masks, max_side=side, flows=flows)
            weight = by_dilation[dilation] * seam_weight(guess, borders)
            total += weight[..., None] * guess.astype(np.float32)
            total_weight += weight
            votes += by_dilation[dilation] * validity
            if ((estimator, size), dilation) == first:
                default_flows = flows
    fused = np.clip(np.rint(total / total_weight[..., None]), 0, 255).astype(np.uint8)
    fused = np.where(masks[..., None], fused, frames)
    return FusedPropagation(fused, 2 * votes > len(hypotheses), *default_flows)
