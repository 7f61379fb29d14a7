"""Chunked repair of whole videos in constant memory.

Frames are read, repaired and written ``chunk`` at a time. Consecutive windows share
``overlap`` frames; the overlapping frames are repaired twice and cross-faded *inside the
mask only* (linear weights over the overlap), so there is no seam in time and pixels outside
the mask are never touched. Only one window of input and ``overlap`` frames of pending output
are held at once, whatever the video's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from seedvr.errors import SeedVRError

ChunkRepair = Callable[[np.ndarray, np.ndarray], np.ndarray]


def check_chunking(chunk: int, overlap: int) -> None:
    if chunk < 1:
        raise SeedVRError(f"--chunk must be at least 1, got {chunk}")
    if overlap < 0 or overlap >= chunk:
        raise SeedVRError(f"--overlap must be >= 0 and smaller than --chunk ({chunk}), got {overlap}")


def _regroup(pairs: Iterator[tuple[np.ndarray, np.ndarray]], first: int, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Re-cut a stream of (frames, masks) chunks of any length: ``first`` frames, then ``size`` at a time."""
    frames_buffer: list[np.ndarray] = []
    masks_buffer: list[np.ndarray] = []
    held, wanted = 0, first
    for frames, masks in pairs:
        frames_buffer.append(frames)
        masks_buffer.append(masks)
        held += len(frames)
        while held >= wanted:
            all_frames, all_masks = np.concatenate(frames_buffer), np.concatenate(masks_buffer)
            yield all_frames[:wanted], all_masks[:wanted]
            frames_buffer, masks_buffer = [all_frames[wanted:]], [all_masks[wanted:]]
            held -= wanted
            wanted = size
    if held:
        yield np.concatenate(frames_buffer), np.concatenate(masks_buffer)


def crossfade_in_mask(earlier: np.ndarray, later: np.ndarray, masks: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Blend two repairs of the same frames: ``earlier`` fades out, ``later`` fades in.

    Outside the mask the original bytes are returned untouched.
    """
    count = len(original)
    weights = (np.arange(count, dtype=np.float32) + 1.0) / (count + 1.0)  # weight of `later`
    weights = weights[:, None, None, None]
    blended = np.rint(earlier.astype(np.float32) * (1.0 - weights) + later.astype(np.float32) * weights)
    blended = blended.clip(0, 255).astype(np.uint8)
    return np.where(masks[..., None], blended, original)


def stream_repair(
    pairs: Iterator[tuple[np.ndarray, np.ndarray]],
    repair: ChunkRepair,
    chunk: int,
    overlap: int,
) -> Iterator[np.ndarray]:
    """Repair a stream of ``(frames, masks)`` chunks; yields repaired frames in order.

    Each window is ``chunk`` frames; the first ``overlap`` frames of a window are the last
    ``overlap`` frames of the previous one.
    """
    check_chunking(chunk, overlap)
    step = chunk - overlap
    carried_frames = carried_masks = pending = None  # the overlap: input and first repair
    for new_frames, new_masks in _regroup(pairs, first=chunk, size=step):
        if carried_frames is None:
            window_frames, window_masks = new_frames, new_masks
        else:
            window_frames = np.concatenate([carried_frames, new_frames])
            window_masks = np.concatenate([carried_masks, new_masks])
        repaired = _repair_window(repair, window_frames, window_masks)
        if pending is not None:
            shared = len(pending)
            repaired[:shared] = crossfade_in_mask(pending, repaired[:shared], window_masks[:shared], window_frames[:shared])
        keep = min(overlap, len(repaired))
        # The last `overlap` frames wait for the next window to be blended with its repair.
        done = len(repaired) - keep
        if done:
            yield repaired[:done]
        pending = repaired[done:] if keep else None
        carried_frames, carried_masks = window_frames[done:], window_masks[done:]
    if pending is not None and len(pending):
        yield pending


def _repair_window(repair: ChunkRepair, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    if not masks.any():
        return frames.copy()
    repaired = repair(frames, masks)
    if repaired.shape != frames.shape or repaired.dtype != np.uint8:
        raise RuntimeError(f"repair method returned {repaired.shape} {repaired.dtype}, expected {frames.shape} uint8")
    # Enforce the lossless contract whatever the method did outside the mask.
    return np.where(masks[..., None], repaired, frames)
