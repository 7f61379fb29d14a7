"""Optical flow between neighbouring frames, completed inside the damaged regions.

Convention used everywhere in the project: a flow field ``flow[y, x] = (dx, dy)`` from frame
``A`` to frame ``B`` says where the scene point seen at pixel ``p`` of ``A`` is found in ``B``::

    A(p) ≈ B(p + flow(p))

so ``backward_warp(B, flow)`` (:mod:`seedvr.ops.warp`) reconstructs ``A``. This is
OpenCV's own Farneback convention (``prev`` = ``A``, ``next`` = ``B``).

Flow is estimated on grey frames shrunk so the longer side is at most ``max_side`` pixels
(the cost grows with the area, and neighbouring-frame motion does not need full resolution),
then resized back and rescaled to full-resolution pixels. Two estimators measure it:
OpenCV's Farneback (the default, and the one the metrics judge motion with) and DIS (dense
inverse search); they fail in different places, which the fusion of
:mod:`seedvr.ops.fusion` exploits.

Flow measured across a hole describes the damage (a static logo, a scratch), not the scene.
:func:`complete_flow` therefore discards it inside the (slightly dilated) hole and replaces
it with a smooth harmonic interpolation of the flow around the hole. Over a whole clip,
:func:`temporal_completion` then prefers what the neighbouring frame pairs measured at the
same place, where the damage let them see it (blotches and dust last a frame).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import cv2
import numpy as np

from seedvr.config import REPAIR_DEFAULTS
from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video, check_video_and_masks

# Longer side (pixels) at which flow is measured unless a caller says otherwise: params.yaml's
# repair.flow_max_side, the working size of propagation and of the model's conditions.
DEFAULT_FLOW_MAX_SIDE = REPAIR_DEFAULTS.flow_max_side

# Farneback settings for frames of about 256 pixels: a 4-level pyramid covers motions of a
# few tens of reduced pixels; a 15-pixel window is robust to the flat fill left in the holes.
_FARNEBACK = dict(pyr_scale=0.5, levels=4, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)

# Farneback's polynomial expansion (poly_n) and 15-pixel averaging window let a hole leak
# into the flow around it: measured on pans, the error stays above its level far from the
# hole for about 9-12 reduced pixels. The hole is grown by this much before completion
# (about +2 dB inside the mask on average over a 3-pixel margin, on panning clips).
DEFAULT_HOLE_DILATION = 9

# Frame pairs looked at on each side of a pair for its temporal completion.
TEMPORAL_REACH = 2

# Jacobi sweeps per pyramid level of the harmonic fill: the coarse level already gives a
# good start, so a handful of sweeps per level is enough to smooth the seams away.
_SWEEPS_PER_LEVEL = 6
_COARSEST_SWEEPS = 40


def reduced_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """``(height, width)`` shrunk so the longer side is at most ``max_side``; never enlarged."""
    if max_side < 8:
        raise SeedVRError(f"max_side must be at least 8 pixels, got {max_side}")
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _to_grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if grey.shape != size:
        grey = cv2.resize(grey, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return grey


def _reduce_mask(hole: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A reduced pixel is a hole as soon as any full-resolution pixel under it is."""
    if hole.shape == size:
        return hole.copy()
    coverage = cv2.resize(hole.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return coverage > 1e-6


def _upscale_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a reduced flow field to ``(height, width)`` and rescale it to those pixels."""
    small_h, small_w = flow.shape[:2]
    if (small_h, small_w) == (height, width):
        return flow.astype(np.float32, copy=False)
    big = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    big[..., 0] *= width / small_w
    big[..., 1] *= height / small_h
    return big


def _farneback(grey_from: np.ndarray, grey_to: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(grey_from, grey_to, None, **_FARNEBACK)


# OpenCV's DIS refuses frames under 12 pixels on a side and was seen to crash on a 12 x 40
# one; below this shorter side (tiny clips only) the pair is measured by Farneback instead.
_DIS_MIN_SIDE = 32


def _dis(grey_from: np.ndarray, grey_to: np.ndarray) -> np.ndarray:
    if min(grey_from.shape) < _DIS_MIN_SIDE:
        return _farneback(grey_from, grey_to)
    # A fresh instance per pair: an instance keeps state between calls, and streams may run
    # in threads. The medium preset: on 10 clips of real video outside the benchmark's frames,
    # fusing nine DIS hypotheses with the nine Farneback ones gained +0.28 dB inside the mask
    # with it and +0.16 dB with the fast preset.
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(grey_from, grey_to, None)


#: The flow estimators by name (``estimator`` of :func:`flows_per_dilation`).
FLOW_ESTIMATORS = {"farneback": _farneback, "dis": _dis}
DEFAULT_FLOW_ESTIMATOR = "farneback"


#: What a frame pair's flow was measured with: (estimator, reduced working size).
Measurement = tuple[str, tuple[int, int]]


def check_estimator(estimator: str) -> None:
    if estimator not in FLOW_ESTIMATORS:
        raise SeedVRError(f"unknown flow estimator {estimator!r}; choose one of {', '.join(FLOW_ESTIMATORS)}")


def farneback_flow(frame_from: np.ndarray, frame_to: np.ndarray, max_side: int = DEFAULT_FLOW_MAX_SIDE) -> np.ndarray:
    """Dense flow ``float32 [H, W, 2]`` (dx, dy) in full-resolution pixels.

    Convention: ``frame_from(p) ≈ frame_to(p + flow(p))``, so
    ``backward_warp(frame_to, flow)`` reconstructs ``frame_from``. Frames are ``uint8
    [H, W, 3]`` RGB; the flow is measured on grey frames whose longer side is reduced to at
    most ``max_side`` pixels.
    """
    for name, frame in (("frame_from", frame_from), ("frame_to", frame_to)):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
            raise SeedVRError(f"{name} must be a uint8 RGB image [H, W, 3]")
    if frame_from.shape != frame_to.shape:
        raise SeedVRError(f"frame_from {frame_from.shape} and frame_to {frame_to.shape} differ in size")
    height, width = frame_from.shape[:2]
    size = reduced_size(height, width, max_side)
    flow = _farneback(_to_grey(frame_from, size), _to_grey(frame_to, size))
    return _upscale_flow(flow, height, width)


# -- harmonic fill -----------------------------------------------------------------------------

_NEIGHBOUR_MEAN = np.array([[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]], dtype=np.float32)


def _as_channels(array: np.ndarray, channels: int) -> np.ndarray:
    # OpenCV drops a trailing axis of length 1; put it back so every level has [H, W, C].
    return array.reshape(array.shape[0], array.shape[1], channels)


def _over_channels(mask: np.ndarray, channels: int) -> np.ndarray:
    # A mask of the values' own [H, W, C] shape: copying under it (np.copyto) is about four
    # times faster than assigning through the [H, W] mask, which the Jacobi sweeps do often.
    return np.repeat(mask[..., None], channels, axis=2)


def _jacobi_sweeps(values: np.ndarray, hole: np.ndarray, sweeps: int) -> np.ndarray:
    """Relax ``values`` towards a harmonic function inside ``hole``, keeping the rest fixed.

    Work is limited to the hole's bounding box (plus the one-pixel ring that feeds it), since
    holes are usually a small part of the frame.
    """
    rows, cols = np.nonzero(hole)
    top, bottom = max(rows.min() - 1, 0), min(rows.max() + 2, hole.shape[0])
    left, right = max(cols.min() - 1, 0), min(cols.max() + 2, hole.shape[1])
    box = values[top:bottom, left:right]
    channels = values.shape[2]
    box_hole = _over_channels(hole[top:bottom, left:right], channels)
    for _ in range(sweeps):
        mean = _as_channels(cv2.filter2D(box, -1, _NEIGHBOUR_MEAN, borderType=cv2.BORDER_REPLICATE), channels)
        np.copyto(box, mean, where=box_hole)
    return values


def harmonic_fill(values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Replace ``values`` inside ``hole`` by a smooth (near-harmonic) interpolation of the rest.

    ``values`` is ``float32 [H, W]`` or ``[H, W, C]``. A one-way multigrid: the known values
    are averaged down a pyramid (weighted by how much of each coarse pixel is known), the
    coarsest level is filled, and each finer level starts from the upsampled coarser fill
    and relaxes it with a few Jacobi sweeps of the Laplace equation. Cost is linear in the
    image area. An image with no known pixel is filled with zeros.
    """
    squeeze = values.ndim == 2
    values = np.array(values, dtype=np.float32, copy=True)
    if squeeze:
        values = values[..., None]
    if hole.any():
        if hole.all():
            values[...] = 0.0
        else:
            values = _fill_level(values, hole.astype(bool))
    return values[..., 0] if squeeze else values


def _fill_level(values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    height, width, channels = values.shape
    if min(height, width) <= 4:
        values[hole] = values[~hole].mean(axis=0)
        return _jacobi_sweeps(values, hole, _COARSEST_SWEEPS)
    coarse_size = ((width + 1) // 2, (height + 1) // 2)
    known = (~hole).astype(np.float32)
    weight = cv2.resize(known, coarse_size, interpolation=cv2.INTER_AREA)
    summed = _as_channels(cv2.resize(values * known[..., None], coarse_size, interpolation=cv2.INTER_AREA), channels)
    coarse_hole = weight < 1e-6
    coarse = summed / np.maximum(weight, 1e-6)[..., None]
    if coarse_hole.any():
        coarse = _fill_level(coarse, coarse_hole)
    upsampled = _as_channels(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR), channels)
    np.copyto(values, upsampled, where=_over_channels(hole, channels))
    return _jacobi_sweeps(values, hole, _SWEEPS_PER_LEVEL)


def _dilate(hole: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return hole
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(hole.astype(np.uint8), kernel).astype(bool)


def complete_flow(flow: np.ndarray, hole: np.ndarray, dilation: int = DEFAULT_HOLE_DILATION) -> np.ndarray:
    """Replace ``flow [H, W, 2]`` inside ``hole [H, W]`` (grown by ``dilation`` pixels of ``flow``).

    The new values are a smooth harmonic interpolation from the flow around the hole; the
    flow outside the dilated hole is returned unchanged. A hole covering the whole frame
    gives zero flow (no information about the motion is left).
    """
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise SeedVRError(f"flow must have shape [H, W, 2], got {tuple(flow.shape)}")
    if hole.shape != flow.shape[:2]:
        raise SeedVRError(f"hole shape {tuple(hole.shape)} does not match the flow {tuple(flow.shape[:2])}")
    if not hole.any():
        return flow.astype(np.float32, copy=True)
    return harmonic_fill(flow, _dilate(hole.astype(bool), dilation))


def temporal_completion(
    measured: Sequence[np.ndarray], holes: Sequence[np.ndarray], completed: Sequence[np.ndarray], reach: int = TEMPORAL_REACH
) -> list[np.ndarray]:
    """Each pair's flow inside its hole taken from the nearest pair in time that measured it.

    Per frame pair ``i``: ``measured[i]`` and ``completed[i]`` (its spatial completion) are
    ``float32 [h, w, C]``, ``holes[i]`` bool ``[h, w]`` (the pair's holes, grown). Damage that
    lasts a frame (a blotch, dust) hides a place from one or two pairs only, and the pairs
    around them measured the motion there. Pixel by pixel, the nearest pair within ``reach``
    whose hole leaves the pixel uncovered gives its measured flow (the earlier one first at
    equal distance); where none does (a logo, a static square) the spatial completion stays.

    The interpolation from the hole's border is wrong wherever the motion inside differs from
    the motion around; a neighbour's measurement is wrong only where the motion changes within
    a frame or two. On the real-footage benchmark's 12 cases, fused propagation gains 0.22 dB
    inside the mask on average (+1.8 dB on blotches, +0.6 dB on a large moving object; the
    worst case, an object on a turning cup, loses 0.16 dB).
    """
    result = []
    for index, hole in enumerate(holes):
        flow = np.array(completed[index], dtype=np.float32, copy=True)
        still_open = hole.copy()
        for offset in (step for distance in range(1, reach + 1) for step in (-distance, distance)):
            other = index + offset
            if 0 <= other < len(holes) and still_open.any():
                seen = still_open & ~holes[other]
                flow[seen] = measured[other][seen]
                still_open &= holes[other]
        result.append(flow)
    return result


# -- whole videos ------------------------------------------------------------------------------


def _masked_greys(frames: np.ndarray, holes: np.ndarray | None, size: tuple[int, int]) -> list[np.ndarray]:
    """Reduced grey frames with the holes smoothed over.

    The damage inside a hole (a logo, a scratch) would otherwise be tracked as if it were
    scene content; a smooth fill carries no texture for Farneback to lock on to.
    """
    greys = []
    for index, frame in enumerate(frames):
        grey = _to_grey(frame, size)
        if holes is not None and holes[index].any():
            filled = harmonic_fill(grey.astype(np.float32), holes[index])
            grey = np.clip(np.rint(filled), 0, 255).astype(np.uint8)
        greys.append(grey)
    return greys


def estimate_video_flows(
    frames: np.ndarray,
    masks: np.ndarray | None = None,
    max_side: int = DEFAULT_FLOW_MAX_SIDE,
    dilation: int = DEFAULT_HOLE_DILATION,
    estimator: str = DEFAULT_FLOW_ESTIMATOR,
) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward flows ``float32 [T-1, H, W, 2]`` between neighbouring frames.

    ``forward[t]`` maps frame ``t`` to frame ``t+1``: ``frame[t](p) ≈ frame[t+1](p +
    forward[t](p))`` (it samples frame ``t+1``). ``backward[t]`` maps frame ``t+1`` to frame
    ``t``: ``frame[t+1](p) ≈ frame[t](p + backward[t](p))``. With ``masks`` (bool ``[T, H,
    W]``, True = damaged), holes are smoothed out of the frames before estimation and both
    flows are completed inside the union of the two frames' holes (grown by ``dilation``
    reduced pixels): from the neighbouring pairs where they saw the place, else harmonically
    (:func:`temporal_completion`). Estimation and completion run at the reduced size (longer side <=
    ``max_side``); the result is resized to full resolution. ``estimator``: one of
    :data:`FLOW_ESTIMATORS`.
    """
    return next(flows_per_dilation(frames, masks, max_side, (dilation,), estimator=estimator))[1]


class PairFlowMemo:
    """The flow work of frame pairs, kept for the next window of a stream that shares them.

    Consecutive windows of a streamed repair share ``overlap`` frames, and what
    :func:`flows_per_dilation` computes for a pair (the measurement on the reduced grey
    frames, each completion inside the pair's holes) depends only on the estimator, the two
    grey frames and their reduced holes. Filed under the measurement (estimator, working size)
    and keyed by a digest of the rest, a pair seen in the previous window is looked up instead
    of measured again: the same arrays, so the repair is bit-identical with or without the memo.

    Per measurement, the ``pairs`` most recently stored pairs are kept (a window stores its
    pairs in order, so its last ones are the ones the next window starts with): memory is
    bounded by ``pairs`` x the measurements in use, whatever the video's length or frame size.
    """

    def __init__(self, pairs: int = REPAIR_DEFAULTS.overlap):
        if pairs < 1:
            raise SeedVRError(f"a flow memo must keep at least 1 pair, got {pairs}")
        self.pairs = pairs
        self._by_measurement: dict[Measurement, OrderedDict[bytes, dict]] = {}
        self.hits = self.misses = 0

    @staticmethod
    def key(grey_from: np.ndarray, grey_to: np.ndarray, hole_from: np.ndarray | None, hole_to: np.ndarray | None) -> bytes:
        digest = hashlib.blake2b(digest_size=16)
        for array in (grey_from, grey_to, hole_from, hole_to):
            digest.update(b"-" if array is None else np.ascontiguousarray(array).tobytes())
        return digest.digest()

    def entry(self, measurement: Measurement, key: bytes) -> dict | None:
        """The stored work of a pair (``"measured"`` and one ``dilation`` -> completed), or None."""
        found = self._by_measurement.get(measurement, {}).get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def store(self, measurement: Measurement, key: bytes, entry: dict) -> None:
        kept = self._by_measurement.setdefault(measurement, OrderedDict())
        kept[key] = entry
        kept.move_to_end(key)
        while len(kept) > self.pairs:
            kept.popitem(last=False)


def _pair_work(
    greys: list[np.ndarray],
    holes: np.ndarray | None,
    index: int,
    size: tuple[int, int],
    memo: PairFlowMemo | None,
    estimator: str,
) -> dict:
    """Measured flows of pair ``index`` (``"measured"``: forward, backward), from ``memo`` when
    it holds them; the dict is where completions per dilation are kept too."""
    hole_from, hole_to = (None, None) if holes is None else (holes[index], holes[index + 1])
    key = None if memo is None else PairFlowMemo.key(greys[index], greys[index + 1], hole_from, hole_to)
    measurement = (estimator, size)
    if memo is not None:
        found = memo.entry(measurement, key)
        if found is not None:
            return found
    measure = FLOW_ESTIMATORS[estimator]
    work = {"measured": (measure(greys[index], greys[index + 1]), measure(greys[index + 1], greys[index]))}
    if memo is not None:
        memo.store(measurement, key, work)
    return work


def flows_per_dilation(
    frames: np.ndarray,
    masks: np.ndarray | None,
    max_side: int = DEFAULT_FLOW_MAX_SIDE,
    dilations: Sequence[int] = (DEFAULT_HOLE_DILATION,),
    memo: PairFlowMemo | None = None,
    estimator: str = DEFAULT_FLOW_ESTIMATOR,
) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """``(dilation, (forward, backward))`` of :func:`estimate_video_flows` for each of ``dilations``.

    The dilation only decides how much of the measured flow the completion replaces, so the
    frame pairs are measured once and completed once per dilation, at the reduced size. The
    full-resolution flows are made one dilation at a time, as the caller asks for them: memory
    holds one pair of them, not one per dilation. With ``memo`` (a :class:`PairFlowMemo`
    shared by the windows of one stream), pairs an earlier window already measured and
    completed are taken from it. ``estimator`` names the measurement (:data:`FLOW_ESTIMATORS`).
    """
    check_estimator(estimator)
    if masks is None:
        check_video(frames)
    else:
        masks = check_video_and_masks(frames, masks)
    count, height, width = frames.shape[:3]
    size = reduced_size(height, width, max_side)
    holes = None if masks is None else np.stack([_reduce_mask(mask, size) for mask in masks])
    greys = _masked_greys(frames, holes, size)
    pairs = [_pair_work(greys, holes, index, size, memo, estimator) for index in range(count - 1)]
    for dilation in dilations:
        for index, work in enumerate(pairs):
            if dilation not in work:
                work[dilation] = _completed(work["measured"], holes, index, dilation)
        completed = [work[dilation].flows for work in pairs]
        if holes is not None:
            completed = _temporally_completed(pairs, completed, dilation)
        forward = np.empty((max(count - 1, 0), height, width, 2), dtype=np.float32)
        backward = np.empty_like(forward)
        for index, (ahead, behind) in enumerate(completed):
            forward[index] = _upscale_flow(ahead, height, width)
            backward[index] = _upscale_flow(behind, height, width)
        yield dilation, (forward, backward)


def _temporally_completed(pairs: list[dict], completed: list, dilation: int) -> list:
    """:func:`temporal_completion` of the clip's pairs at one dilation (both directions at once).

    Not kept in the memo: a pair's result depends on the pairs around it, which a window's
    first and last pairs only partly have. What it reads per pair is (the measured flows of
    both directions side by side, the grown hole of each dilation).
    """
    for work in pairs:
        if "measured_both" not in work:
            work["measured_both"] = np.concatenate(work["measured"], axis=2)
    measured = [work["measured_both"] for work in pairs]
    grown = [work[dilation].hole for work in pairs]
    spatial = [np.concatenate(pair, axis=2) for pair in completed]
    both = temporal_completion(measured, grown, spatial)
    return [(np.ascontiguousarray(flow[..., :2]), np.ascontiguousarray(flow[..., 2:])) for flow in both]


class PairCompletion(NamedTuple):
    """A pair's flows completed at one dilation, and the grown hole they were completed in."""

    flows: tuple[np.ndarray, np.ndarray]  # forward, backward at the reduced size
    hole: np.ndarray  # bool [h, w]: the union of the pair's holes grown by the dilation


def _completed(measured: tuple[np.ndarray, np.ndarray], holes: np.ndarray | None, index: int, dilation: int) -> PairCompletion:
    """The measured pair completed inside the union of its two holes grown by ``dilation``."""
    ahead, behind = measured
    if holes is None:
        return PairCompletion(measured, np.zeros(ahead.shape[:2], dtype=bool))
    grown = _dilate(holes[index] | holes[index + 1], dilation)
    if not grown.any():
        return PairCompletion(measured, grown)
    # Both directions share the hole: one 4-channel fill completes them together.
    both = harmonic_fill(np.concatenate((ahead, behind), axis=2), grown)
    return PairCompletion((np.ascontiguousarray(both[..., :2]), np.ascontiguousarray(both[..., 2:])), grown)
