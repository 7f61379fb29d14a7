"""Blind mode: find film damage (scratches, blotches, dust) in a video, without a mask.

:func:`detect_damage` runs the :class:`~seedvr.models.detector.DamageDetector` over a clip in
memory; :func:`detect_video` streams a whole video through it and writes a mask video (white =
damage) atomically. The detected mask is what ``seedvr repair --mask auto`` repairs inside
(:mod:`seedvr.engine.auto_mask`).

Streaming: the video is decoded ``chunk`` frames at a time and each chunk is detected with two
frames of context on each side (the last frames of the previous chunk, the first of the next).
Every cue of frame ``t`` reads frames ``t-2 .. t+2`` only (flow is measured per pair) and the
net frames ``t-1 .. t+1``, so a streamed detection equals a whole-clip one exactly, whatever the
chunk. Memory is two chunks of frames plus one window's flows and cue maps: by count of the
arrays, at most about 100 bytes per pixel of each window frame, so :data:`DETECT_CHUNK` frames
(plus 4 of context) stay near 2.5 GB at 1080p and 0.12 GB at 432x240, whatever the length.

A clip of fewer than 3 frames has no temporal cue: each frame is detected on its own (as the
detector was also trained to), with a warning, never an error.

Scales: damage on film is as wide as the scan makes it, while the detector learned it at the
size of its training frames (``detector.width`` x ``detector.height``): at 432x240 a generated
scratch is about 2.5 times wider than at 128x96, and the net, seeing only its middle, misses
its edges. So each frame is also detected shrunk (``scales``, shares of its side; the flagged
mask is where any scale's probability passes the threshold), the way detectors of objects
look at an image pyramid. A scale that would shrink a frame's shorter side under
:data:`MIN_SCALED_SIDE` pixels is skipped: damage that small is already at the learned size.
On the real-footage benchmark's film cases (``bench_quality.py --blind``) scales 1 and 0.4
raise the recall of the shipped detector from 0.50-0.90 to 0.86-0.95 per case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from seedvr.config import DetectorParams, detection_scales
from seedvr.engine.repair import dilate_masks
from seedvr.engine.streaming import check_chunking
from seedvr.errors import SeedVRError
from seedvr.io import MaskWriter, iter_video_chunks, probe
from seedvr.io.atomic import check_output_folder, check_outputs_apart
from seedvr.models.detector import DamageDetector, neighbour_stack
from seedvr.ops.damage_cues import CUE_REACH, MIN_TEMPORAL_FRAMES, damage_cues, temporal_cue_available
from seedvr.ops.damage_regions import grown_damage
from seedvr.ops.shots import shot_slices
from seedvr.pipeline.detector_folder import load_detector
from seedvr.video_contract import check_video

LOGGER = logging.getLogger(__name__)

__all__ = [
    "check_detection_options",
    "check_scales",
    "damage_mask",
    "damage_probabilities",
    "detect_damage",
    "detect_video",
    "load_detector",
    "working_sizes",
]

DETECTOR_DEFAULTS = DetectorParams()
DEFAULT_THRESHOLD = DETECTOR_DEFAULTS.threshold
DEFAULT_DILATE = DETECTOR_DEFAULTS.dilate
DEFAULT_SCALES = DETECTOR_DEFAULTS.scales
DEFAULT_GROW_THRESHOLD = DETECTOR_DEFAULTS.grow_threshold
#: What ``repair --mask auto`` repairs: the detections grown down to this probability.
AUTO_GROW_THRESHOLD = DETECTOR_DEFAULTS.auto_grow_threshold
#: Shortest side, in pixels, a frame is shrunk to by a detection scale (the training crops' size).
MIN_SCALED_SIDE = 64
#: Frames detected together by :func:`detect_video` (the result does not depend on it).
DETECT_CHUNK = 8
# Frames the net runs on at once: bounds the activations' memory at large frame sizes.
_FRAMES_PER_PASS = 4
#: Pixels each frame is mirrored past its edges while it is detected (the result is cropped
#: back). A blotch cut by the frame's edge is otherwise half a shape against the net's zero
#: padding, and its flat inside goes unfound: on the real-footage benchmark's megamind-blotch
#: (48 frames) the fifth-leg detector left 550 pixels of a light corner blotch (p < 0.05) and the
#: blind repair lost 5.7 dB there (26.44 against 32.18 with the true mask; mirrored: 32.15); the
#: fourth-leg detector left 453 pixels of dark corner blotches on a cup clip outside the
#: benchmark's frames. Mirrored by 24 px, neither detector misses any of either, and no more
#: clean pixels are flagged. First 24 frames of the blind cases (`propagate`, PSNR inside the true
#: mask): vtest-scratch -0.33, tree-dust +0.22, megamind-film +0.22, megamind-blotch 0.00 dB.
EDGE_MIRROR = 24
# Most pixels --dilate may grow a mask by (as --mask-dilate of repair allows).
_MAX_DILATE = 256


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_detection_options(threshold: float, dilate: int, grow_threshold: float | None = None) -> None:
    """A threshold strictly between 0 and 1, a grow threshold (if any) above 0 and at most the
    threshold, and a dilation of 0 to 256 pixels, else one line."""
    if not _is_number(threshold) or not 0.0 < float(threshold) < 1.0:
        raise SeedVRError(f"--threshold must be strictly between 0 and 1, got {threshold!r}")
    if grow_threshold is not None and (not _is_number(grow_threshold) or not 0.0 < float(grow_threshold) <= float(threshold)):
        raise SeedVRError(f"--grow-threshold must be above 0 and at most --threshold ({threshold:g}), got {grow_threshold!r}")
    if isinstance(dilate, bool) or not isinstance(dilate, (int, np.integer)) or not 0 <= dilate <= _MAX_DILATE:
        raise SeedVRError(f"--dilate must be between 0 and {_MAX_DILATE} pixels, got {dilate!r}")


def check_scales(scales: Sequence[float] | str) -> tuple[float, ...]:
    """Detection scales (numbers, or text such as ``"1,0.4"``) as a tuple: at least one, each in
    (0, 1], no repeats; else one line."""
    try:
        return detection_scales(scales)
    except ValueError as error:
        raise SeedVRError(f"--{error}") from None


def working_sizes(height: int, width: int, scales: Sequence[float]) -> list[tuple[int, int]]:
    """The ``(height, width)`` each scale detects a ``height`` x ``width`` frame at: scales that
    would shrink the shorter side under :data:`MIN_SCALED_SIDE` are left out (the native size
    stands in when every scale is), and two scales landing on one size count once."""
    sizes = []
    for scale in check_scales(scales):
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        if (scale == 1.0 or min(size) >= MIN_SCALED_SIDE) and size not in sizes:
            sizes.append(size)
    return sizes or [(height, width)]


@torch.no_grad()
def damage_probabilities(frames: np.ndarray, detector: DamageDetector, scales: Sequence[float] = DEFAULT_SCALES) -> np.ndarray:
    """Probability of damage ``float32 [T, H, W]`` for each pixel of ``frames`` (``uint8 [T, H, W, 3]``):
    the largest over the detection ``scales`` (see the module's docstring).

    A clip under 3 frames is detected frame by frame, without neighbours or temporal cue. Each
    shot of a clip with scene cuts is detected alone (:func:`seedvr.ops.shots.shot_slices`), so
    the frames beside a cut are not read against the other shot; a shot under 3 frames is
    detected frame by frame too. The cut test reads two frames alone: streaming stays exact.
    """
    check_video(frames)
    shots = shot_slices(frames)
    if len(shots) == 1:  # most windows: no copy of the probabilities (a GB for 32 frames of 4K)
        return _shot_probabilities(frames, detector, scales)
    return np.concatenate([_shot_probabilities(frames[shot], detector, scales) for shot in shots])


def _shot_probabilities(frames: np.ndarray, detector: DamageDetector, scales: Sequence[float]) -> np.ndarray:
    """:func:`damage_probabilities` of one shot (no cut inside ``frames``)."""
    height, width = frames.shape[1:3]
    probabilities = None
    for size in working_sizes(height, width, scales):
        if size == (height, width):
            found = _probabilities_at_size(frames, detector)
        else:
            shrunk = np.stack([cv2.resize(frame, size[::-1], interpolation=cv2.INTER_AREA) for frame in frames])
            found = np.stack(
                [cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in _probabilities_at_size(shrunk, detector)]
            )
        probabilities = found if probabilities is None else np.maximum(probabilities, found)
    return probabilities


def _probabilities_at_size(frames: np.ndarray, detector: DamageDetector) -> np.ndarray:
    """The detector's probabilities for ``frames`` at their own size, each frame mirrored past
    its edges by :data:`EDGE_MIRROR` pixels (fewer on a smaller frame) while it is detected."""
    height, width = frames.shape[1:3]
    mirror = min(EDGE_MIRROR, height - 1, width - 1)
    if mirror <= 0:
        return _probabilities_of(frames, detector)
    mirrored = np.pad(frames, ((0, 0), (mirror, mirror), (mirror, mirror), (0, 0)), mode="reflect")
    return np.ascontiguousarray(_probabilities_of(mirrored, detector)[:, mirror:-mirror, mirror:-mirror])


def _probabilities_of(frames: np.ndarray, detector: DamageDetector) -> np.ndarray:
    """The detector's probabilities for ``frames`` as they are."""
    cues = damage_cues(frames, channels=detector.config.cue_channels)
    lone = not temporal_cue_available(len(frames))
    probabilities = np.empty(frames.shape[:3], dtype=np.float32)
    for start in range(0, len(frames), _FRAMES_PER_PASS):
        stop = min(start + _FRAMES_PER_PASS, len(frames))
        if lone:  # each frame on its own, as in training's lone-frame samples
            stacked = torch.stack([neighbour_stack(frames[[t, t, t]])[1] for t in range(start, stop)])
        else:
            low, high = max(start - 1, 0), min(stop + 1, len(frames))
            stacked = neighbour_stack(frames[low:high])[start - low : stop - low]
        logits = detector(stacked, torch.from_numpy(cues[start:stop]))
        probabilities[start:stop] = torch.sigmoid(logits.float()).numpy()
    return probabilities


def damage_mask(
    probabilities: np.ndarray, threshold: float, dilate: int, grow_threshold: float | None = DEFAULT_GROW_THRESHOLD
) -> np.ndarray:
    """The mask ``bool [T, H, W]`` of damage ``probabilities``: above ``threshold``; with a
    ``grow_threshold``, each detection grown to its extent (:func:`~seedvr.ops.damage_regions.grown_damage`);
    then ``dilate`` pixels wider. Frame by frame, so a streamed detection equals a whole one."""
    if grow_threshold is None:
        found = probabilities > threshold
    else:
        found = grown_damage(probabilities, threshold, grow_threshold)
    return dilate_masks(found, dilate)


def detect_damage(
    frames: np.ndarray,
    detector: DamageDetector,
    threshold: float = DEFAULT_THRESHOLD,
    dilate: int = DEFAULT_DILATE,
    scales: Sequence[float] = DEFAULT_SCALES,
    grow_threshold: float | None = DEFAULT_GROW_THRESHOLD,
) -> np.ndarray:
    """Damage mask ``bool [T, H, W]`` of a clip: :func:`damage_mask` of its probabilities (the
    largest over ``scales``).

    Clips under 3 frames are detected frame by frame (no temporal cue) with a warning.
    """
    check_detection_options(threshold, dilate, grow_threshold)
    check_scales(scales)
    if not temporal_cue_available(len(frames)):
        LOGGER.warning(
            "only %d frame(s): damage is detected in each frame alone, without the temporal cue (less reliable)", len(frames)
        )
    return damage_mask(damage_probabilities(frames, detector, scales), threshold, dilate, grow_threshold)


def _chunks_with_context(chunks: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, slice]]:
    """``(window, chunk)``: each chunk with ``CUE_REACH`` frames of context before and after it
    (as many as exist), and where the chunk lies inside its window.

    Chunks must hold at least ``CUE_REACH`` frames (the last one excepted), so the context
    after a chunk always comes from the next chunk alone.
    """
    before = None
    pending = next(chunks, None)
    while pending is not None:
        following = next(chunks, None)
        parts = ([before] if before is not None else []) + [pending]
        if following is not None:
            parts.append(following[:CUE_REACH])
        first = 0 if before is None else len(before)
        yield np.concatenate(parts), slice(first, first + len(pending))
        before = np.concatenate(parts[: len(parts) - (following is not None)])[-CUE_REACH:]
        pending = following


def detect_video(
    input_path: str | Path,
    output_mask: str | Path,
    detector: DamageDetector | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    dilate: int = DEFAULT_DILATE,
    chunk: int = DETECT_CHUNK,
    scales: Sequence[float] = DEFAULT_SCALES,
    grow_threshold: float | None = DEFAULT_GROW_THRESHOLD,
) -> dict:
    """Detect the damage of a whole video into a mask video (``.mkv``/``.avi`` lossless, or a PNG folder).

    Streams ``chunk`` frames at a time (see the module's docstring); the mask appears only
    when complete. ``detector`` ``None``: the shipped one. Returns a summary (frames, flagged
    fraction, whether the temporal cue was used).
    """
    input_path, output_mask = Path(input_path), Path(output_mask)
    check_detection_options(threshold, dilate, grow_threshold)
    check_scales(scales)
    check_chunking(chunk, 0)
    check_outputs_apart({"the mask output": output_mask}, {"the input": input_path})
    check_output_folder(output_mask, "mask output")
    info = probe(input_path)
    detector = load_detector() if detector is None else detector
    # The flagged-pixel count needs no frame stored: it is summed as chunks go by.
    flagged = frames_done = 0
    temporal = temporal_cue_available(info.frames)
    if not temporal:
        LOGGER.warning(
            "%s has %d frame(s): damage is detected in each frame alone, without the temporal cue (less reliable)",
            input_path,
            info.frames,
        )
    with MaskWriter(output_mask, info.fps, info.width, info.height) as writer:
        # At least 3 frames a chunk: every window of a clip of 3 frames or more has 3 (the
        # temporal cue), and the context after a chunk fits in the next one.
        chunks = iter_video_chunks(input_path, max(chunk, MIN_TEMPORAL_FRAMES, CUE_REACH))
        for window, inside in _chunks_with_context(chunks):
            masks = damage_mask(damage_probabilities(window, detector, scales)[inside], threshold, dilate, grow_threshold)
            writer.write(masks)
            flagged += int(masks.sum())
            frames_done += len(masks)
        if frames_done != info.frames:
            raise SeedVRError(f"{input_path}: decoded {frames_done} frames, expected {info.frames}")
    return {
        "input": str(input_path),
        "mask": str(output_mask),
        "frames": frames_done,
        "flagged_fraction": flagged / max(1, frames_done * info.width * info.height),
        "temporal_cue": temporal,
    }
