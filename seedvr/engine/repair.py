"""``repair_video``: repair one video file (or frame folder) into an output, streaming.

Memory stays flat whatever the length: input and mask are decoded ``chunk`` frames at a
time, repaired window by window (see :mod:`seedvr.engine.streaming`) and written as they
come. The output appears only when complete (temporary name, then rename); inputs are never
modified. Pixels outside the (optionally dilated) mask are the input's, byte for byte.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from seedvr.engine.methods import RepairMethod, make_method
from seedvr.engine.streaming import check_chunking, stream_repair
from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, iter_mask_chunks, iter_video_chunks, probe

ProgressHook = Callable[[int, int], None]  # (frames done, total frames)


@dataclass
class RepairReport:
    """What a repair did; written next to batch outputs as JSON."""

    input: str
    mask: str
    output: str
    method: str
    frames: int
    width: int
    height: int
    fps: str
    masked_fraction: float
    seconds: float
    frames_per_second: float
    chunk: int
    overlap: int
    max_side: int | None
    mask_dilate: int
    details: dict

    def to_dict(self) -> dict:
        return asdict(self)


def dilate_masks(masks: np.ndarray, pixels: int) -> np.ndarray:
    """Grow every frame's hole by ``pixels`` (elliptic kernel): damage edges are often soft."""
    if pixels <= 0:
        return masks
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return np.stack([cv2.dilate(mask.astype(np.uint8), kernel) > 0 for mask in masks])


def reduced_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return height, width
    return max(1, round(height * scale)), max(1, round(width * scale))


def at_reduced_size(repair: Callable, max_side: int | None) -> Callable:
    """Wrap ``repair`` to run at longer side ``max_side`` and composite at full size.

    The reduced repair is upsampled and used inside the full-resolution mask only, so speed
    is bought with detail inside the holes and never with pixels outside them.
    """
    if max_side is None:
        return repair

    def repair_reduced(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        height, width = frames.shape[1:3]
        small_h, small_w = reduced_size(height, width, max_side)
        if (small_h, small_w) == (height, width):
            return repair(frames, masks)
        small_frames = np.stack([cv2.resize(f, (small_w, small_h), interpolation=cv2.INTER_AREA) for f in frames])
        # A reduced pixel touching any hole pixel is a hole: known pixels must really be known.
        coverage = np.stack([cv2.resize(m.astype(np.float32), (small_w, small_h), interpolation=cv2.INTER_AREA) for m in masks])
        small_masks = coverage > 0
        small_repaired = repair(small_frames, small_masks)
        upsampled = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in small_repaired])
        return np.where(masks[..., None], upsampled, frames)

    return repair_reduced


def repair_video(
    input_path: str | Path,
    mask_path: str | Path,
    output_path: str | Path,
    method: str | RepairMethod = "seedvr",
    model: str | Path | None = None,
    chunk: int = 32,
    overlap: int = 8,
    steps: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    mask_dilate: int = 0,
    max_side: int | None = None,
    seed: int = 0,
    crf: int = 18,
    progress: ProgressHook | None = None,
) -> RepairReport:
    """Repair ``input_path`` inside ``mask_path`` into ``output_path`` (format by extension).

    ``method`` is a method name (built here, loading ``model`` for ``seedvr``) or a ready
    :class:`RepairMethod`, e.g. around a pipeline a served model loaded once.
    """
    input_path, mask_path, output_path = Path(input_path), Path(mask_path), Path(output_path)
    check_chunking(chunk, overlap)
    if mask_dilate < 0 or mask_dilate > 256:
        raise SeedVRError(f"--mask-dilate must be between 0 and 256 pixels, got {mask_dilate}")
    if max_side is not None and max_side < 8:
        raise SeedVRError(f"--max-side must be at least 8 pixels, got {max_side}")
    if not output_path.parent.is_dir():
        raise SeedVRError(f"output folder does not exist: {output_path.parent}")
    if output_path.resolve() == input_path.resolve():
        raise SeedVRError("the output path must differ from the input: inputs are never overwritten")
    info = probe(input_path)
    # Reading the first mask chunk up front checks its size and frame count before any work.
    mask_info_check = iter_mask_chunks(mask_path, 1, info)
    next(mask_info_check, None)
    if isinstance(method, RepairMethod):
        chosen = method
    else:
        chosen = make_method(method, model=model, steps=steps, device=device, precision=precision, seed=seed)
    repair = at_reduced_size(chosen.repair, max_side)

    masked_pixels = 0
    frames_done = 0

    def pairs():
        nonlocal masked_pixels
        for frames, masks in zip(iter_video_chunks(input_path, chunk), iter_mask_chunks(mask_path, chunk, info)):
            masks = dilate_masks(masks, mask_dilate)
            masked_pixels += int(masks.sum())
            yield frames, masks

    started = time.perf_counter()
    with VideoWriter(output_path, fps=info.fps, width=info.width, height=info.height, audio_from=input_path, crf=crf) as writer:
        for repaired in stream_repair(pairs(), repair, chunk, overlap):
            writer.write(repaired)
            frames_done += len(repaired)
            if progress is not None:
                progress(frames_done, info.frames)
        if frames_done != info.frames:
            # Raised inside the writer so the incomplete output is discarded, not committed.
            raise SeedVRError(f"{input_path}: decoded {frames_done} frames, expected {info.frames}")
    seconds = time.perf_counter() - started
    return RepairReport(
        input=str(input_path),
        mask=str(mask_path),
        output=str(output_path),
        method=chosen.name,
        frames=frames_done,
        width=info.width,
        height=info.height,
        fps=str(info.fps),
        masked_fraction=round(masked_pixels / max(1, frames_done * info.width * info.height), 6),
        seconds=round(seconds, 3),
        frames_per_second=round(frames_done / max(seconds, 1e-9), 3),
        chunk=chunk,
        overlap=overlap,
        max_side=max_side,
        mask_dilate=mask_dilate,
        details=chosen.details,
    )
