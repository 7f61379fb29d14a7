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
Where the ring of known pixels around the holes is propagated into too (for the blending
below), each hypothesis is also weighted by how well it predicted that ring
(:class:`seedvr.ops.seams.RingPredictions`): pixels whose true colour is known. Neither says
anything deep inside a wide hole; there a hypothesis that carries a moving object into the
hole puts a patch the others do not, so each is also weighted by how far it strays from the
hypotheses' median around the pixel (:func:`consensus_weights`).

Then the fused repair is treated as a clip without holes: the flow is measured on it and the
known pixels are propagated again along that flow, a few times (:data:`FLOW_REFINEMENTS`),
as the video-completion literature alternates motion and colour. The completed flow inside
a hole is a guess from around it; the flow measured through a plausible fill follows the
picture, and converges within a few passes (figures at :data:`FLOW_REFINEMENTS`).
But the flow measured through a fill also follows the fill's own mistakes: where an object
crossing a hole left a faint smear in the first pass, the flow tracks the smear and carries the
object into frames where it is gone. So a refined pixel stands as measured only near its
hole's border (:data:`FREE_REFINEMENT_DEPTH`) and outside the object-sized patches where the
refined fill strays from the first pass (:data:`CARRIED_PATCH_RADIUS`) and their place in the
frames around (:data:`CARRIED_PATCH_FRAMES`); deeper in the hole and in such patches it is held
near the first pass (:data:`REFINEMENT_TRUST`).

Last, the fill is blended in the gradient domain (:mod:`seedvr.ops.blending`): every
propagation also fills the ring of known pixels around the holes, fused the same way, and
what it got wrong there is carried harmonically into the holes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple

import cv2
import numpy as np
import torch

from seedvr.errors import SeedVRError
from seedvr.ops.blending import BORDER_BLEND, Blend, blended, blends_any_hole, border_ring, check_blend
from seedvr.ops.consensus import spread_within, weighted_median
from seedvr.ops.damage_regions import thick_detections
from seedvr.ops.flow import (
    DEFAULT_FLOW_ESTIMATOR,
    DEFAULT_FLOW_MAX_SIDE,
    DEFAULT_HOLE_DILATION,
    FLOW_ESTIMATORS,
    PairFlowMemo,
    check_estimator,
    estimate_video_flows,
    flows_per_dilation,
    reduced_size,
)
from seedvr.ops.propagation import propagation_guess
from seedvr.ops.seams import HoleBorders, RingPredictions

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

# Ring weighting: the weight is exp(-(seam / SEAM_TEMPERATURE + ring / RING_TEMPERATURE)), the
# ring's prediction error (grey levels) spread over SEAM_SPREAD pixels and averaged over
# SEAM_FRAMES like the seam. The seam alone reads the picture's own edges at the border as
# error; the ring error does not. Chosen on 12 clips of real video outside the benchmark's
# frames (24 frames at 432x240, every kind; first pass of `propagate`, no refinement, blended,
# PSNR inside the mask): seam alone 29.98 dB, ring alone at 2 / 3 / 5 levels 30.37 / 30.31 /
# 30.22, both at 1 / 1.5 / 2 / 3 / 5 levels 30.43 / 30.44 / 30.43 / 30.38 / 30.29 (seam
# temperatures of 5 and 20 beside the ring within 0.02 dB). The whole `propagate` (three
# refinements), PSNR / E_warp inside the mask on those clips and on the benchmark's 11 small
# cases (first 24 frames):
#   seam alone, +-2 frames           30.93 / 1.030    29.34 / 1.624
#   ring at 5 levels, +-2 frames     31.17 / 1.026    29.46 / 1.678
#   ring at 2 levels, +-2 frames     31.29 / 1.060    29.45 / 1.792
#   ring at 2 levels, +-4 frames     31.36 / 1.037    29.53 / 1.676
#   ring at 3 levels, +-4 frames     31.27 / 1.016    29.47 / 1.629
#   ring at 5 levels, +-4 frames     31.17 / 1.037    29.44 / 1.616   (shipped)
# Sharper weights switch between hypotheses from frame to frame; averaging them over +-4 frames
# takes most of that back. At 2 levels the benchmark's whole 48-frame cup-object case lost
# 0.39 dB and rose 15 % in E_warp inside the mask (the cup passing behind the mask); at 3 levels
# -0.13 dB, at 5 levels none. At 3 levels the whole benchmark gained +0.14 dB, but the model
# fine-tuned by `make run` then warped 0.004 worse inside the mask than `propagate` on its split
# and failed its temporal gate; at 5 levels it passes (0.012 better), so 5.
RING_TEMPERATURE = 5.0


# Passes of flow re-measured on the fused repair, then propagation again (:func:`_refined`).
# Mean PSNR inside the mask of the 12 real-footage cases (first 24 frames) after 0-4 passes:
# 27.55, 28.20, 28.47, 28.60, 28.67 dB (megamind-film +3.5, cup-object +2.4, vtest-scratch
# +1.8 at 3; the 854x480 large-object case -0.5, where the fill of a wide hole is too blurred
# to measure). On clips of the same videos outside the benchmark's frames, every kind, the
# gains hold (7 clips, 24 frames at 432x240: +1.25 dB on average; blotch +1.4 and +0.3, dust
# +2.5, stroke +3.7, scratch +0.7, object +0.1, logo 0.0).
# Each pass costs about a quarter of the first (one measurement per estimator and size, no
# completion); the fourth adds +0.07 dB, so three.
FLOW_REFINEMENTS = 3

# How far (grey levels, largest channel difference) a refined pixel may stray from the first
# pass: trusted fully up to the first figure, not at all from the second, linearly between;
# the rest of the pixel comes from the first pass. Where an object passing behind a hole was
# smeared into the fill, the flow measured through it carries the smear on into later frames:
# unbounded, the refinement took the full 48-frame cup-object case from 23.75 to 18.84 dB
# inside the mask (all 12 cases: 25.50 -> 25.78 dB, E_warp inside the mask 3.51 -> 4.30).
# Kept within 32 levels (a hard cut): 25.82 dB, no case below -0.12 dB, E_warp 3.69. This
# ramp, on the six cases where that cut raised E_warp most or gained most: better on all six
# in both (cup-object 23.73 -> 23.78 dB, E_warp 4.29 -> 4.06; box-static-square E_warp
# 1.62 -> 1.20; megamind-logo 31.39 -> 31.51 dB).
REFINEMENT_TRUST = (16, 48)

# That bound held every refined pixel near the first pass until 2026-12-05. Now a refined pixel
# stands as measured within FREE_REFINEMENT_DEPTH px of its hole's border (and on the ring
# around it), where the seams pull the measured flow right, unless it lies in a patch the
# refinement carried in: pixels that stray more than CARRIED_STRAY levels from the first pass,
# connected (8-neighbourhood, per frame), holding a pixel CARRIED_PATCH_RADIUS or more from the
# patch's edge. Deeper inside a hole and in such patches the bound holds. PSNR / E_warp inside
# the mask, `propagate`, windows of 24 frames at 432x240 (the real-footage benchmark's 11 small
# cases, frames 0-23 and 24-47: 22 windows; 12 clips of the same videos outside its frames,
# every kind, 5 of them objects):
#   bound everywhere                 26.94 / 3.50     26.90 / 3.44
#   no bound                         27.20 / 4.32     27.10 / 3.73   (cup-object 21.21 -> 16.21 dB
#                                                                     in its second window: the cup
#                                                                     carried into the wall)
#   bound in carried patches only    27.31            27.13
#   and deeper than 4 px             27.17 / 3.45     26.95 / 3.38   (the worst -0.09 dB; shipped until
#                                                                     2026-12-05, below)
# The patches alone flicker: a patch is found in one frame and not the next, so the fill
# alternates between the two passes (the 48-frame benchmark's E_warp inside the mask rose
# 3.64 -> 3.84, and the make-run model lost its temporal gate). Applied once after the last
# pass, on all 34 windows: bound everywhere 26.91 / 3.43, in patches only 27.25 / 3.58, and
# deeper than 2, 4, 8 px 27.07 / 3.39, 27.11 / 3.42, 27.20 / 3.47.
CARRIED_STRAY = 32
CARRIED_PATCH_RADIUS = 3.0
FREE_REFINEMENT_DEPTH = 12.0
# A carried patch bounds its place in the frames up to CARRIED_PATCH_FRAMES on either side too,
# so the fill does not alternate between the two passes where a patch is found in one frame and
# not the next (what made the patches alone flicker above); with that, the free depth could grow
# from 4 to 12 px (2026-12-05). `propagate` on the same 34 windows, re-measured with the code
# of that day (this run gives the rule before 26.84 where the table above has 27.17: compare
# within a table, not across), PSNR / E_warp inside the mask (22 benchmark windows; 12 clips
# outside its frames):
#   depth 4, no frames (before)      26.84 / 3.39     26.95 / 3.38
#   depth 12, +-6 frames (shipped)   26.90 / 3.38     27.11 / 3.41
# better on 17 windows, worse on 8 (cup stroke clip +1.72, cup-object's first window +0.62,
# megamind-logo's second +0.26; the worst box-stroke's first, -0.17). Chosen with the rule
# applied once after the last pass (all 34 windows; before 26.89 / 3.42): depth 12 with +-1,
# +-3, +-6 frames 26.97 / 3.46, 26.96 / 3.43, 26.97 / 3.42; +-6 frames with depth 8 or 16
# 26.94 / 3.41 and 26.97 / 3.43, with no depth bound 26.96 / 3.45. A bound by the flow instead
# (deep pixels whose refined flow is 0.5-4 px off the first pass's completed flow): 26.92-26.97
# dB with E_warp 3.49-3.60.
CARRIED_PATCH_FRAMES = 6

# Consensus weighting (:mod:`seedvr.ops.consensus`): each hypothesis' weight is also multiplied
# by exp(-d / (CONSENSUS_TEMPERATURE + CONSENSUS_SCALE_SHARE * m)), d its distance (grey levels)
# to the hypotheses' weighted median averaged over CONSENSUS_SPREAD pixels and SEAM_FRAMES
# frames, m the median of the hypotheses' d at that pixel. A hypothesis that carries a moving
# object into a hole the object has left strays from the others there; the mean kept a faint
# copy of it. Measured 2026-12-06 (the whole `propagate`, 24 frames at 432x240, PSNR / E_warp
# inside the mask / E_warp off the clean clip's; 12 clips outside the benchmark's frames and
# the benchmark's 11 small cases, first 24 frames):
#   weighted mean (before)                      31.17 / 1.037 / 0.330    29.44 / 1.616 / 1.044
#   weighted median                             31.31 / 1.167 / 0.280    29.45 / 1.817 / 1.106
#   down-weighting per pixel (12 levels)        31.40 / 1.173 / 0.254    29.50 / 1.822 / 1.116
#   spread 2 px, +-4 frames, 6 levels           31.57 / 1.083 / 0.280    29.49 / 1.680 / 1.032
#   the same, scale 6 + 2 m (shipped)           31.38 / 1.020 / 0.338    29.57 / 1.588 / 1.004
# Without the scale, on the whole 48-frame benchmark the object cases flickered (E_warp inside
# the mask 3.56 -> 4.02, `propagate` 26.50 -> 26.51 dB): where the hole is widest no hypothesis
# is near the truth and a fixed temperature moved the fill between them from frame to frame.
# With it no window above loses more than 0.01 dB (vtest object clip +1.87, megamind-logo +0.51).
CONSENSUS_SPREAD = 2.0
CONSENSUS_TEMPERATURE = 6.0
CONSENSUS_SCALE_SHARE = 2.0

# Weights chosen frame by frame flicker: the seam (and the ring error) is averaged over the
# holes of the frames up to this far on either side. On four real-footage cases (stroke, logo,
# object, scratch) the warping error inside the mask rose 10-30 % over the plain mean with
# per-frame weights; with +-2 frames the rise was a third of that, at the same PSNR (within
# 0.1 dB). With the sharper ring weights, +-4 (see RING_TEMPERATURE).
SEAM_FRAMES = 4


def _temporal_hole_mean(values: np.ndarray, masks: np.ndarray, reach: int) -> np.ndarray:
    """Per pixel, the mean of ``values`` over the frames within ``reach`` where it is a hole."""
    total, count = np.zeros_like(values), np.zeros(values.shape, dtype=np.float32)
    frames = len(values)
    reach = min(reach, frames - 1)  # a clip shorter than the reach: every frame is within it
    for shift in range(-reach, reach + 1):
        source = slice(max(0, shift), frames + min(0, shift))
        target = slice(max(0, -shift), frames + min(0, -shift))
        total[target] += values[source]
        count[target] += masks[source]
    return np.where(masks, total / np.maximum(count, 1.0), 0.0).astype(np.float32)


def consensus_weights(guesses: np.ndarray, weights: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Each hypothesis' weight factor ``float32 [N, P]`` on the ``filled`` pixels (bool ``[T,
    H, W]``, P of them): exp(-d / (CONSENSUS_TEMPERATURE + CONSENSUS_SCALE_SHARE * the
    hypotheses' median d)), d its mean absolute distance (over the colour channels) to the
    hypotheses' median weighted by ``weights`` ``[N, P]``, averaged over CONSENSUS_SPREAD pixels
    around and SEAM_FRAMES frames on either side."""
    median = weighted_median(guesses, weights)
    distances = np.empty(weights.shape, dtype=np.float32)
    distance = np.zeros(filled.shape, dtype=np.float32)
    for index, guess in enumerate(guesses):
        distance[filled] = np.abs(guess.astype(np.float32) - median).mean(axis=-1)
        spread = _temporal_hole_mean(spread_within(distance, filled, CONSENSUS_SPREAD), filled, SEAM_FRAMES)
        distances[index] = spread[filled]
    # Where the hypotheses all stray (no one near the truth) the scale grows with how far they
    # typically do and the weights stay even: a fill that moved between them from frame to
    # frame would flicker. Where most agree, the one that strays weighs little.
    scale = CONSENSUS_TEMPERATURE + CONSENSUS_SCALE_SHARE * np.median(distances, axis=0)
    # Relative to the hypothesis nearest the median at each pixel: the same weighted mean, and
    # the factors never all underflow to zero.
    return np.exp(-(distances - distances.min(axis=0)) / scale)


def seam_borders(frames: np.ndarray, masks: np.ndarray) -> HoleBorders:
    """The hole borders every hypothesis of ``frames`` in ``masks`` is judged against."""
    return HoleBorders(frames, masks, SEAM_SPREAD)


def seam_weight(fill: np.ndarray, borders: HoleBorders, ring: RingPredictions | None = None) -> np.ndarray:
    """Weight ``float32 [T, H, W]`` of one hypothesis' ``fill`` in the fused mean (1 with no seam),
    by its seam at the hole borders and, with a ``ring``, by how well it predicted the ring."""
    exponent = borders.mismatch(fill) / SEAM_TEMPERATURE
    if ring is not None:
        exponent += ring.error(fill) / RING_TEMPERATURE
    exponent = _temporal_hole_mean(exponent, borders.masks, SEAM_FRAMES)
    return np.exp(-np.minimum(exponent, _MAX_SEAM_EXPONENT))


class FusedPropagation(NamedTuple):
    """The fused guess and what it was made from (video contract shapes)."""

    guess: np.ndarray  # uint8 [T, H, W, 3]: seam-weighted mean of the hypotheses' guesses, exact outside the holes
    validity: np.ndarray  # bool [T, H, W]: known, or propagated under most hypotheses
    forward_flow: np.ndarray  # float32 [T-1, H, W, 2]: the default hypothesis' flow
    backward_flow: np.ndarray
    # uint8 [T, H, W, 3] or None: the guess, except on the ring of known pixels around the
    # holes (``border_ring``), where it holds what the fused propagation put there.
    border_fill: np.ndarray | None = None


def fused_propagation(
    frames: np.ndarray,
    masks: np.ndarray,
    flow_max_side: int = DEFAULT_FLOW_MAX_SIDE,
    hypotheses: tuple[tuple[str, float, int], ...] = FLOW_HYPOTHESES,
    memo: PairFlowMemo | None = None,
    refinements: int = FLOW_REFINEMENTS,
    blend: Blend = BORDER_BLEND,
    device: torch.device | str | None = None,
) -> FusedPropagation:
    """Propagate ``frames`` into ``masks`` (bool ``[T, H, W]``) under every flow hypothesis and fuse.

    Hypotheses that land on the same estimator and working size (small frames: nothing is
    shrunk) are computed once and keep their weight in the mean; the frame pairs are measured
    once per estimator and working size, whatever the dilations. The weighted mean (see the
    module docstring) is accumulated over the hole pixels, so memory stays at one float copy
    of them and a few numbers per pixel (the weights, the votes, the hole borders' spread)
    however many hypotheses there are. ``memo`` (one per stream of windows) spares re-measuring the frame
    pairs the previous window shared with this one.

    ``refinements`` passes then re-measure the flow on the fused result and propagate again
    (:func:`_refined`); their flows depend on this window's fill, so the memo does not keep them.

    ``blend`` is the share of the gradient-domain correction (:mod:`seedvr.ops.blending`)
    added at the end; with 0 the ring around the holes is not propagated into at all.

    ``device``: where the propagations run (:func:`~seedvr.ops.propagation.propagation_guess`);
    the flows are measured on the CPU whatever it is.
    """
    if refinements < 0:
        raise SeedVRError(f"refinements must be 0 or more, got {refinements}")
    check_blend(blend)
    height, width = frames.shape[1:3]
    measurements = _measurements(hypotheses, height, width, flow_max_side)
    first = (_measured_as(*hypotheses[0][:2], height, width, flow_max_side), hypotheses[0][2])
    masks = masks.astype(bool, copy=False)
    fusion = _Fusion(frames, masks, border_ring(masks) if blends_any_hole(blend) else None)

    def hypotheses_flows():
        for (estimator, size), by_dilation in measurements.items():
            for dilation, flows in flows_per_dilation(frames, masks, max(size), tuple(by_dilation), memo, estimator):
                yield max(size), flows, (by_dilation[dilation], ((estimator, size), dilation) == first)

    default_flows = None
    for flows, weighed, (count, is_first) in _propagated_beside(fusion, hypotheses_flows(), device):
        fusion.add(weighed, count)
        if is_first:
            default_flows = flows
    fused = anchor = fusion.result()
    deep = _deep_in_holes(masks) if refinements else None  # the holes do not change between passes
    for _ in range(refinements):
        fused, default_flows = _refined(frames, masks, fusion.border, fused, measurements, first[0], device)
        fused = _bounded(fused, anchor, deep)
    if fused.border_fill is not None:
        fused = fused._replace(guess=blended(fused.guess, frames, masks, fused.border_fill, blend))
    return fused._replace(forward_flow=default_flows[0], backward_flow=default_flows[1])


def _measured_as(estimator: str, scale: float, height: int, width: int, flow_max_side: int) -> tuple[str, tuple[int, int]]:
    check_estimator(estimator)
    return estimator, reduced_size(height, width, max(8, round(flow_max_side * scale)))


def _measurements(hypotheses, height: int, width: int, flow_max_side: int) -> dict:
    """``{(estimator, working size): {dilation: weight}}``: the hypotheses that share a
    measurement grouped, each weighted by how many of them landed on it."""
    weights: dict[tuple[str, tuple[int, int]], dict[int, int]] = {}
    for estimator, scale, dilation in hypotheses:
        by_dilation = weights.setdefault(_measured_as(estimator, scale, height, width, flow_max_side), {})
        by_dilation[dilation] = by_dilation.get(dilation, 0) + 1
    return weights


def _propagated_beside(
    fusion: _Fusion, hypotheses: Iterator[tuple[int, tuple, object]], device: torch.device | str | None
) -> Iterator[tuple[tuple, _Weighed, object]]:
    """``(flows, weighed guess, tag)`` for each ``(working side, flows, tag)`` of ``hypotheses``, in order.

    Each hypothesis' propagation and seam weight run on one background thread while this
    thread measures and completes the next hypothesis' flows: the two halves of the work use
    different libraries (torch and numpy for propagation; OpenCV's Farneback, DIS and the
    harmonic fill for the flows), which release the interpreter while they compute, so on two
    cores they overlap (-25 % wall time for ``propagate`` at 432x240). One hypothesis waits at
    most, so memory holds three hypotheses' flows, whatever their number. Results are taken in
    order and every computation is the serial one, so the fusion is bit-identical.
    """
    frames, masks, ring = fusion.frames, fusion.masks, fusion.border

    def propagated(side: int, flows: tuple) -> _Weighed:
        guess, validity = propagation_guess(frames, masks, max_side=side, flows=flows, border=ring, device=device)
        return _Weighed(guess, validity, seam_weight(guess, fusion.borders, fusion.ring_predictions))

    with _propagation_threads(device), ThreadPoolExecutor(1, thread_name_prefix="seedvr-propagation") as worker:
        waiting = None
        for side, flows, tag in hypotheses:
            submitted = (flows, worker.submit(propagated, side, flows), tag)
            if waiting is not None:
                yield waiting[0], waiting[1].result(), waiting[2]
            waiting = submitted
        if waiting is not None:
            yield waiting[0], waiting[1].result(), waiting[2]


@contextmanager
def _propagation_threads(device: torch.device | str | None) -> Iterator[None]:
    """On the CPU, torch gets half the cores while the fusion runs (its worker thread starts
    with that count), the flows' OpenCV threads the rest.

    Propagation is small gathers; with as many torch threads as cores they fight OpenCV's for
    the cores. ``propagate`` on 16 frames at 432x240: 1.59 s a frame with torch's 16 threads
    on a 16-core machine, 0.85 with 8; on this 2-core machine 0.70 with 2, 0.62 with 1
    (``benchmarks/results/cuda_propagation_h200.log``). The count is restored afterwards.
    """
    if device is not None and torch.device(device).type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, min(previous, cores // 2)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _Weighed(NamedTuple):
    """One hypothesis' propagated guess, its validity and its seam weight (``[T, H, W]``)."""

    guess: np.ndarray
    validity: np.ndarray
    weight: np.ndarray


class _Fusion:
    """The seam-, ring- and consensus-weighted mean of hypotheses' guesses. Each hypothesis'
    fill of the holes is kept as it comes in (the work overlaps the next one's flows) and fused
    when the last is in: the consensus weighs each against the median of them all.

    With a ``border`` (the ring of known pixels around the holes, propagated into too), the
    mean covers the ring as well, each ring pixel weighted like the hole pixels it touches.
    """

    def __init__(self, frames: np.ndarray, masks: np.ndarray, border: np.ndarray | None = None) -> None:
        self.frames, self.masks, self.border = frames, masks, border
        self.borders = seam_borders(frames, masks)
        self.ring_predictions = None if border is None else RingPredictions(frames, masks, border, SEAM_SPREAD)
        # The filled pixels only (in their mask's order): elsewhere the guess is the frame.
        self.filled = masks if border is None else masks | border
        self.guesses: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        self.votes = np.zeros(masks.shape, dtype=np.int32)
        self.count = 0

    def add(self, weighed: _Weighed, count: int) -> None:
        """One hypothesis' guess with its seam weight, standing for ``count`` hypotheses."""
        weight = weighed.weight if self.border is None else _spread_onto(weighed.weight, self.masks, self.border)
        self.weights.append(count * weight[self.filled])
        self.guesses.append(weighed.guess[self.filled])
        self.votes += count * weighed.validity
        self.count += count

    def result(self) -> FusedPropagation:
        guesses, weights = np.stack(self.guesses), np.stack(self.weights)
        weights *= consensus_weights(guesses, weights, self.filled)
        total = np.zeros(guesses.shape[1:], dtype=np.float32)
        for weight, guess in zip(weights, guesses):
            total += weight[:, None] * guess.astype(np.float32)
        mean = total / weights.sum(axis=0)[:, None]
        fused = np.array(self.frames, copy=True)
        fused[self.filled] = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
        validity = 2 * self.votes > self.count
        if self.border is None:
            return FusedPropagation(fused, validity, None, None)
        # The ring is known picture; its votes only said where propagation reached it.
        guess = np.where(self.masks[..., None], fused, self.frames)
        return FusedPropagation(guess, validity | self.border, None, None, border_fill=fused)


def _spread_onto(weight: np.ndarray, masks: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """``weight`` with each ``ring`` pixel given the mean weight of the hole pixels among its 8 neighbours."""
    hole_weight = np.pad(weight * masks, ((0, 0), (1, 1), (1, 1)))
    holes = np.pad(masks, ((0, 0), (1, 1), (1, 1)))
    frame, row, col = np.nonzero(ring)  # the ring is thin: gather its neighbours, not whole frames
    total, count = np.zeros(len(frame), dtype=np.float32), np.zeros(len(frame), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            total += hole_weight[frame, row + dy, col + dx]
            count += holes[frame, row + dy, col + dx]
    spread = weight.astype(np.float32, copy=True)
    spread[frame, row, col] = total / np.maximum(count, 1.0)
    return spread


def _refined(
    frames: np.ndarray,
    masks: np.ndarray,
    border: np.ndarray | None,
    fused: FusedPropagation,
    measurements: dict,
    default: tuple,
    device: torch.device | str | None,
) -> tuple[FusedPropagation, tuple[np.ndarray, np.ndarray]]:
    """One refinement pass: the flow measured on the fused repair, then propagation again.

    Completing the flow inside a hole from around it is the weak step of the first pass. On
    the repaired clip there is no hole: the estimators measure the motion of the filled
    content with the picture around it, and where the fill moved wrongly its seams pull the
    flow back toward the surrounding motion. The known pixels of ``frames`` are propagated
    again along those flows, one hypothesis per estimator and working size (no completion, so
    no dilations), and fused with the same seam weights. Returns the new fusion and the flows
    of the ``default`` measurement.
    """
    fusion = _Fusion(frames, masks, border)

    def measured_on_fill():
        for (estimator, size), by_dilation in measurements.items():
            flows = estimate_video_flows(fused.guess, None, max_side=max(size), estimator=estimator)
            yield max(size), flows, (sum(by_dilation.values()), (estimator, size) == default)

    default_flows = None
    for flows, weighed, (count, is_default) in _propagated_beside(fusion, measured_on_fill(), device):
        fusion.add(weighed, count)
        if is_default:
            default_flows = flows
    return fusion.result(), default_flows


def _bounded(refined: FusedPropagation, anchor: FusedPropagation, deep: np.ndarray) -> FusedPropagation:
    """``refined`` blended back toward ``anchor`` where it is not trusted as it is (:func:`_refinement_trust`;
    ``deep``: :func:`_deep_in_holes` of the masks), the ring's fill with the holes'."""
    # The ring's fill holds the holes' too: one trust map for both.
    trust = _refinement_trust(_whole_fill(refined), _whole_fill(anchor), deep)
    border_fill = None if refined.border_fill is None else _mixed(refined.border_fill, anchor.border_fill, trust)
    return refined._replace(
        guess=_mixed(refined.guess, anchor.guess, trust),
        validity=np.where(trust >= 0.5, refined.validity, anchor.validity),
        border_fill=border_fill,
    )


def _whole_fill(fused: FusedPropagation) -> np.ndarray:
    return fused.guess if fused.border_fill is None else fused.border_fill


def _deep_in_holes(masks: np.ndarray) -> np.ndarray:
    """``bool [T, H, W]``: the hole pixels farther than :data:`FREE_REFINEMENT_DEPTH` from their border."""
    deep = np.empty(masks.shape, dtype=bool)
    for index, holes in enumerate(masks):
        depth = cv2.distanceTransform(holes.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        deep[index] = depth > FREE_REFINEMENT_DEPTH
    return deep


def _refinement_trust(refined: np.ndarray, anchor: np.ndarray, deep: np.ndarray) -> np.ndarray:
    """``float32 [T, H, W]``: how much of ``refined`` to keep per pixel: 1 within
    :data:`FREE_REFINEMENT_DEPTH` of the holes' border (outside ``deep``), except inside the
    patches where it strays from ``anchor`` by more than :data:`CARRIED_STRAY` levels and which
    hold a pixel :data:`CARRIED_PATCH_RADIUS` from their edge, in its frame or within
    :data:`CARRIED_PATCH_FRAMES` of it; there and deeper in the holes by :data:`REFINEMENT_TRUST`."""
    trusted, distrusted = REFINEMENT_TRUST
    difference = _largest_channel_difference(refined, anchor)
    ramp = np.clip((distrusted - difference) / (distrusted - trusted), 0.0, 1.0).astype(np.float32)
    carried = np.stack([thick_detections(frame > CARRIED_STRAY, CARRIED_PATCH_RADIUS) for frame in difference])
    return np.where(deep | _held_over_frames(carried, CARRIED_PATCH_FRAMES), ramp, np.float32(1.0))


def _held_over_frames(masks: np.ndarray, reach: int) -> np.ndarray:
    """``masks`` (``bool [T, H, W]``) with each pixel also set where it is set within ``reach`` frames."""
    held = np.array(masks, copy=True)
    for shift in range(1, reach + 1):
        held[shift:] |= masks[:-shift]
        held[:-shift] |= masks[shift:]
    return held


def _largest_channel_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.abs(first.astype(np.int16) - second.astype(np.int16)).max(axis=-1)


def _mixed(refined: np.ndarray, anchor: np.ndarray, trust: np.ndarray) -> np.ndarray:
    return np.rint(trust[..., None] * refined + (1.0 - trust[..., None]) * anchor).astype(np.uint8)
