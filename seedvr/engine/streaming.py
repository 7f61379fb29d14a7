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

#: Frames a streamed pass decodes at a time: a repair's input (its windows are assembled from
#: these pieces, so decoding holds a few frames beside the window, not a second window: 4K,
#: 200 MB) and blind mode's per-pixel passes over videos and masks (whose results do not
#: depend on it).
READ_FRAMES = 8


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
        del frames, masks
        while held >= wanted:
            # Yielded straight from the call: while this generator waits, no local of it holds
            # the yielded frames (a whole window of 4K frames) alive.
            yield _split_off(frames_buffer, wanted), _split_off(masks_buffer, wanted)
            held -= wanted
            wanted = size
    if held:
        yield np.concatenate(frames_buffer), np.concatenate(masks_buffer)


def _split_off(buffer: list[np.ndarray], count: int) -> np.ndarray:
    """The first ``count`` frames of ``buffer``; the rest stays in it, copied out of the result."""
    joined = np.concatenate(buffer)
    buffer[:] = [joined[count:].copy()]
    return joined[:count]


def crossfade_in_mask(earlier: np.ndarray, later: np.ndarray, masks: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Blend two repairs of the same frames: ``earlier`` fades out, ``later`` fades in.

    Outside the mask the original bytes are returned untouched.
    """
    count = len(original)
    weights = (np.arange(count, dtype=np.float32) + 1.0) / (count + 1.0)  # weight of `later`
    blended = original.copy()
    # Frame by frame and only at the hole pixels: float copies of whole 4K frames would cost
    # more memory than the repair of a tile.
    for index, weight in enumerate(weights):
        hole = masks[index]
        mixed = earlier[index][hole].astype(np.float32) * (1.0 - weight) + later[index][hole].astype(np.float32) * weight
        blended[index][hole] = np.rint(mixed).clip(0, 255).astype(np.uint8)
    return blended


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
        # Memory holds one window (and the overlap): nothing else keeps its frames alive.
        del new_frames, new_masks
        repaired = _repair_window(repair, window_frames, window_masks)
        if pending is not None:
            shared = len(pending)
            repaired[:shared] = crossfade_in_mask(pending, repaired[:shared], window_masks[:shared], window_frames[:shared])
        keep = min(overlap, len(repaired))
        # The last `overlap` frames wait for the next window to be blended with its repair.
        done = len(repaired) - keep
        pending = repaired[done:].copy() if keep else None
        carried_frames, carried_masks = window_frames[done:].copy(), window_masks[done:].copy()
        finished = repaired[:done]
        # While the caller writes the finished frames, the window's input is already freed.
        del repaired, window_frames, window_masks
        if done:
            yield finished
        del finished
    if pending is not None and len(pending):
        yield pending


def checked_result(repaired: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """A repair method's result, refused (a bug, not a user error) unless it is ``uint8`` of
    the shape of the ``frames`` it was given."""
    repaired = np.asarray(repaired)
    if repaired.shape != frames.shape or repaired.dtype != np.uint8:
        raise RuntimeError(f"repair method returned {repaired.shape} {repaired.dtype}, expected {frames.shape} uint8")
    return repaired


def _repair_window(repair: ChunkRepair, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    if not masks.any():
        return frames.copy()
    # Enforce the lossless contract whatever the method did outside the mask.
    return keep_outside_mask(checked_result(repair(frames, masks), frames), frames, masks)


def keep_outside_mask(repaired: np.ndarray, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``repaired`` with the input ``frames`` copied back outside ``masks``, in place, a frame at
    a time (a second window-sized array would be the largest buffer at 4K). ``repaired`` is a
    method's own new array, or the input itself, which this leaves as it is."""
    for index in range(len(frames)):
        np.copyto(repaired[index], frames[index], where=~masks[index][..., None])
    return repaired
