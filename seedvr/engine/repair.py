"""``repair_video``: repair one video file (or frame folder) into an output, streaming.

Memory stays flat whatever the length: input and mask are decoded ``chunk`` frames at a
time, repaired window by window (see :mod:`seedvr.engine.streaming`) and written as they
come. The output appears only when complete (temporary name, then rename); inputs are never
modified. Pixels outside the (optionally dilated) mask are the input's, byte for byte.

With ``adapt_steps`` (``seedvr repair --adapt``) the model is first fine-tuned on the video
itself (:mod:`seedvr.train.adapt`): a fresh copy is loaded from disk, trained on at most
``adapt_frames`` frames (all of a short video, else evenly spaced runs of consecutive frames,
so memory stays bounded), then used for the streamed repair. The saved model is untouched.

With ``crop`` (``--crop``; off by default, see :data:`~seedvr.engine.crops.CROP_BY_DEFAULT`)
each window is repaired only in crops around its damage
(:mod:`seedvr.engine.crops`): the method's repair function is wrapped before streaming, so the
crops are planned per window over all its frames, and inside ``--max-side`` (the crops are
planned on the reduced frames, ``crop_margin`` in reduced pixels): the repair runs at the
same scale as without cropping, on less of the frame.

Every window (a whole frame or a crop) larger than ``tile_pixels`` is repaired in overlapping
tiles (:mod:`seedvr.engine.tiles`), so the method's memory is bounded whatever the frame size.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from seedvr.config import REPAIR_DEFAULTS, TrainParams
from seedvr.engine.crops import (
    CROP_BY_DEFAULT,
    DEFAULT_CROP_ALIGN,
    DEFAULT_CROP_MARGIN,
    CropStats,
    check_crop_options,
    cropped,
)
from seedvr.engine.methods import (
    RepairMethod,
    check_sampling,
    make_method,
    per_shot,
    pipeline_method,
    requiring_known_pixels,
    resolve_device,
    resolve_dtype,
    with_blend,
)
from seedvr.engine.streaming import READ_FRAMES, check_chunking, stream_repair
from seedvr.engine.tiles import check_tile_options, tiled
from seedvr.errors import SeedVRError
from seedvr.io import VideoInfo, VideoWriter, atomic_output, iter_mask_chunks, iter_video_chunks, probe
from seedvr.io.atomic import check_output_folder, check_outputs_apart
from seedvr.method_catalog import MODEL_METHOD, check_method
from seedvr.ops.blending import Blend
from seedvr.ops.flow import reduced_size
from seedvr.pipeline.loading import load_pipeline
from seedvr.pipeline.shipped import shipped_base_model

ProgressHook = Callable[[int, int], None]  # (frames done, total frames)

# Frames decoded at a time while picking the adaptation frames (memory: one such chunk).
_ADAPT_READ_CHUNK = 16


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
    masked_pixels: int
    seconds: float
    frames_per_second: float
    chunk: int
    overlap: int
    max_side: int | None
    mask_dilate: int
    tile_pixels: int
    details: dict
    # What cropping did (:meth:`seedvr.engine.crops.CropStats.to_dict`), or ``{"enabled": False}``.
    crop: dict = field(default_factory=lambda: {"enabled": False})

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: str | Path) -> None:
        """Write the report as JSON at ``path`` (atomically)."""
        with atomic_output(path) as staging:
            staging.write_text(json.dumps(self.to_dict(), indent=2))


def check_repair_paths(input_path: Path, mask_path: Path, output_path: Path, report_path: Path | None = None) -> None:
    """The output (and report) clear of the input, the mask and each other, in writable folders.

    Raises:
        SeedVRError: two paths clash, or an output's folder is missing or read-only.
    """
    outputs = {what: path for what, path in (("output", output_path), ("report", report_path)) if path is not None}
    check_outputs_apart({f"--{what}": path for what, path in outputs.items()}, {"the input": input_path, "the mask": mask_path})
    for what, path in outputs.items():
        check_output_folder(path, what)


def dilate_masks(masks: np.ndarray, pixels: int) -> np.ndarray:
    """Grow every frame's hole by ``pixels`` (elliptic kernel): damage edges are often soft."""
    if pixels <= 0:
        return masks
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return np.stack([cv2.dilate(mask.astype(np.uint8), kernel) > 0 for mask in masks])


def reduce_to_max_side(frames: np.ndarray, masks: np.ndarray, max_side: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Frames and masks at longer side ``max_side`` (unchanged when already small enough).

    Frames shrink by area averaging; a reduced pixel touching any hole pixel is a hole, so
    known pixels are really known.
    """
    height, width = frames.shape[1:3]
    if max_side is None:
        return frames, masks
    small_h, small_w = reduced_size(height, width, max_side)
    if (small_h, small_w) == (height, width):
        return frames, masks
    small_frames = np.stack([cv2.resize(f, (small_w, small_h), interpolation=cv2.INTER_AREA) for f in frames])
    coverage = np.stack([cv2.resize(m.astype(np.float32), (small_w, small_h), interpolation=cv2.INTER_AREA) for m in masks])
    return small_frames, coverage > 0


def at_reduced_size(repair: Callable, max_side: int | None) -> Callable:
    """Wrap ``repair`` to run at longer side ``max_side`` and composite at full size.

    The reduced repair is upsampled and used inside the full-resolution mask only, so speed
    is bought with detail inside the holes and never with pixels outside them.
    """
    if max_side is None:
        return repair

    def repair_reduced(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        height, width = frames.shape[1:3]
        small_frames, small_masks = reduce_to_max_side(frames, masks, max_side)
        if small_frames is frames:
            return repair(frames, masks)
        small_repaired = repair(small_frames, small_masks)
        upsampled = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in small_repaired])
        return np.where(masks[..., None], upsampled, frames)

    return repair_reduced


def adaptation_windows(total: int, max_frames: int, run: int) -> list[range]:
    """The frames adaptation learns from: all of them when they fit in ``max_frames``, else
    ``max_frames // run`` evenly spaced runs of ``run`` consecutive frames (samples need
    neighbouring frames; spreading the runs covers the whole video's content)."""
    if total <= max_frames:
        return [range(total)]
    run = min(run, max_frames)
    count = max(1, max_frames // run)
    # Runs never overlap: total > count * run, so the spacing of the starts is at least `run`.
    starts = np.linspace(0, total - run, count).round().astype(int)
    return [range(int(start), int(start) + run) for start in starts]


def read_adaptation_clips(
    input_path: Path,
    mask_path: Path,
    info: VideoInfo,
    windows: list[range],
    mask_dilate: int,
    max_side: int | None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The frames and (dilated, reduced as the repair will be) masks of ``windows``.

    Decodes up to the end of the last window, one small chunk at a time, keeping only the
    wanted frames: memory is the windows plus one chunk, whatever the video's length.
    """
    frame_parts: list[list[np.ndarray]] = [[] for _ in windows]
    mask_parts: list[list[np.ndarray]] = [[] for _ in windows]
    videos = iter_video_chunks(input_path, _ADAPT_READ_CHUNK)
    masks_in = iter_mask_chunks(mask_path, _ADAPT_READ_CHUNK, info)
    offset, end = 0, windows[-1].stop
    try:
        for frames, masks in zip(videos, masks_in):
            for parts, mask_list, window in zip(frame_parts, mask_parts, windows):
                low, high = max(window.start, offset) - offset, min(window.stop, offset + len(frames)) - offset
                if low < high:  # copies: a view would keep the whole chunk alive
                    parts.append(frames[low:high].copy())
                    mask_list.append(masks[low:high].copy())
            offset += len(frames)
            if offset >= end:
                break
    finally:
        videos.close()
        masks_in.close()
    clips, clip_masks = [], []
    for parts, mask_list in zip(frame_parts, mask_parts):
        if parts:
            frames, masks = np.concatenate(parts), dilate_masks(np.concatenate(mask_list), mask_dilate)
            frames, masks = reduce_to_max_side(frames, masks, max_side)
            clips.append(frames)
            clip_masks.append(masks)
    if not clips:
        raise SeedVRError(f"{input_path}: no frames to adapt on")
    return clips, clip_masks


def adapted_model_method(
    input_path: Path,
    mask_path: Path,
    info: VideoInfo,
    model: str | Path | None,
    steps: int | None,
    device: str,
    precision: str,
    seed: int,
    mask_dilate: int,
    max_side: int | None,
    adapt_steps: int,
    adapt_seconds: float | None,
    adapt_frames: int,
) -> RepairMethod:
    """The ``seedvr`` method around a fresh copy of ``model`` fine-tuned on this video."""
    from seedvr.train.adapt import adapt_pipeline  # here: see check_adapt_options

    torch_device = resolve_device(device)
    dtype = resolve_dtype(precision, torch_device)
    model = model if model is not None else shipped_base_model()
    # Loaded in float32 (optimiser updates need it), cast to the inference precision after.
    pipeline = load_pipeline(model, torch_device, torch.float32, label=f"--model {model}")
    # Built before adapting so a bad --steps fails before the costly part; the method holds
    # this very pipeline object, which adaptation trains in place.
    method = pipeline_method(pipeline, steps=steps, seed=seed)
    windows = adaptation_windows(info.frames, adapt_frames, TrainParams().clip_frames)
    frames, masks = read_adaptation_clips(input_path, mask_path, info, windows, mask_dilate, max_side)
    _, report = adapt_pipeline(pipeline, frames, masks, adapt_steps, seconds=adapt_seconds, seed=seed, inplace=True, dtype=dtype)
    method.details.update({"model": str(model), "device": str(torch_device), "precision": precision, "adapt": report.to_dict()})
    return method


def check_adapt_options(method, model, adapt_steps: int, adapt_seconds: float | None, adapt_frames: int) -> bool:
    """Whether to adapt; a request that cannot be honoured fails here, before any work."""
    if adapt_steps == 0 and adapt_seconds is None:
        return False
    if adapt_steps == 0:
        raise SeedVRError("--adapt-seconds needs --adapt STEPS (the step limit)")
    if isinstance(method, RepairMethod) or method != MODEL_METHOD:
        raise SeedVRError("--adapt needs --method seedvr")
    if isinstance(adapt_frames, bool) or not isinstance(adapt_frames, (int, np.integer)) or adapt_frames < 1:
        raise SeedVRError(f"--adapt-frames must be at least 1, got {adapt_frames!r}")
    # Imported here: Lightning takes seconds to import and only --adapt needs it.
    from seedvr.train.adapt import check_adapt_request

    check_adapt_request(adapt_steps, adapt_seconds)
    return True


def repair_video(
    input_path: str | Path,
    mask_path: str | Path,
    output_path: str | Path,
    method: str | RepairMethod = MODEL_METHOD,
    model: str | Path | None = None,
    chunk: int = REPAIR_DEFAULTS.chunk,
    overlap: int = REPAIR_DEFAULTS.overlap,
    steps: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    mask_dilate: int = 0,
    max_side: int | None = None,
    seed: int = 0,
    crf: int = REPAIR_DEFAULTS.crf,
    progress: ProgressHook | None = None,
    adapt_steps: int = 0,
    adapt_seconds: float | None = None,
    adapt_frames: int = REPAIR_DEFAULTS.adapt_frames,
    crop: bool = CROP_BY_DEFAULT,
    crop_margin: int | None = None,
    tile_pixels: int = REPAIR_DEFAULTS.tile_pixels,
    report_path: str | Path | None = None,
    blend: Blend | None = None,
    allow_empty_mask: bool = False,
) -> RepairReport:
    """Repair ``input_path`` inside ``mask_path`` into ``output_path`` (format by extension).

    ``method`` is a method name (built here, loading ``model`` for ``seedvr``) or a ready
    :class:`RepairMethod`, e.g. around a pipeline a served model loaded once.

    ``adapt_steps > 0`` (method ``seedvr`` only; ``model`` defaults to the shipped base) first fine-tunes a copy of the
    model on at most ``adapt_frames`` frames of this video for that many optimizer steps or
    ``adapt_seconds``, whichever ends first; the report's ``details["adapt"]`` says what it
    did, and ``seconds`` / ``frames_per_second`` count the repair alone.

    ``crop`` repairs each window only in crops around its damage with
    ``crop_margin`` pixels of context (default :data:`~seedvr.engine.crops.DEFAULT_CROP_MARGIN`,
    see :mod:`seedvr.engine.crops`); ``crop=False`` runs the method on whole frames. The
    report's ``crop`` says what cropping did. A window (whole frame or crop) larger than
    ``tile_pixels`` is repaired in tiles (:mod:`seedvr.engine.tiles`).

    ``report_path`` also writes the report there as JSON, after the output.

    ``blend`` sets the method's share of gradient-domain blending (``None``: the method's
    own, :data:`~seedvr.ops.blending.BORDER_BLEND` when built here); a detected mask is
    repaired with :data:`~seedvr.ops.blending.DETECTED_MASK_BLEND`.

    A mask that marks no pixel is refused (a user's mask that would repair nothing is a
    mistake); ``allow_empty_mask`` lets a detected one through, the output then equal to the input.

    Every argument is checked before any decoding; the paths first (:func:`check_repair_paths`).
    """
    input_path, mask_path, output_path = Path(input_path), Path(mask_path), Path(output_path)
    report_path = None if report_path is None else Path(report_path)
    check_repair_paths(input_path, mask_path, output_path, report_path)
    check_chunking(chunk, overlap)
    check_sampling(steps, seed)
    if not isinstance(method, RepairMethod):
        check_method(method)
    if mask_dilate < 0 or mask_dilate > 256:
        raise SeedVRError(f"--mask-dilate must be between 0 and 256 pixels, got {mask_dilate}")
    if max_side is not None and max_side < 8:
        raise SeedVRError(f"--max-side must be at least 8 pixels, got {max_side}")
    crop_stats = None
    crop_margin = DEFAULT_CROP_MARGIN if crop_margin is None else crop_margin
    if crop:
        check_crop_options(crop_margin, DEFAULT_CROP_ALIGN)
        crop_stats = CropStats(margin=crop_margin, align=DEFAULT_CROP_ALIGN)
    # Tiles overlap by two margins, so every pixel a tile gives back has one margin of context.
    tile_overlap = 2 * crop_margin
    check_tile_options(tile_pixels, tile_overlap)
    adapting = check_adapt_options(method, model, adapt_steps, adapt_seconds, adapt_frames)
    info = probe(input_path)
    # Reading the first mask chunk up front checks its size, frame count and that it marks
    # some pixel before any work.
    mask_info_check = iter_mask_chunks(mask_path, 1, info, require_damage=not allow_empty_mask)
    next(mask_info_check, None)
    if isinstance(method, RepairMethod):
        chosen = method
    elif adapting:
        chosen = adapted_model_method(
            input_path,
            mask_path,
            info,
            model,
            steps,
            device,
            precision,
            seed,
            mask_dilate,
            max_side,
            adapt_steps,
            adapt_seconds,
            adapt_frames,
        )
    else:
        chosen = make_method(method, model=model, steps=steps, device=device, precision=precision, seed=seed)
    if blend is not None:
        chosen = with_blend(chosen, blend)
    # Tiles innermost (a large crop is tiled too), crops inside the reduction: the method runs
    # at the --max-side scale either way.
    repair = tiled(chosen.repair, tile_pixels, tile_overlap)
    repair = cropped(repair, crop_margin, crop_stats.align, crop_stats) if crop_stats else repair
    repair = at_reduced_size(repair, max_side)
    # What is refused is the mask as given, not a crop or a reduction of it; each shot of a
    # window apart, since a scene cut leaves nothing to carry from the other side.
    repair = per_shot(requiring_known_pixels(chosen.name, repair))

    masked_pixels = 0
    frames_done = 0

    def pairs():
        nonlocal masked_pixels
        pieces = min(chunk, READ_FRAMES)
        for frames, masks in zip(iter_video_chunks(input_path, pieces), iter_mask_chunks(mask_path, pieces, info)):
            masks = dilate_masks(masks, mask_dilate)
            masked_pixels += int(masks.sum())
            yield frames, masks

    started = time.perf_counter()
    # The source's frame times (variable rates) and finer-than-8-bit pixels outside the repair are kept.
    with VideoWriter(
        output_path,
        fps=info.fps,
        width=info.width,
        height=info.height,
        audio_from=input_path,
        crf=crf,
        timestamps=info.frame_times,
        precision_from=input_path,
    ) as writer:
        for repaired in stream_repair(pairs(), repair, chunk, overlap):
            writer.write(repaired)
            frames_done += len(repaired)
            if progress is not None:
                progress(frames_done, info.frames)
        if frames_done != info.frames:
            # Raised inside the writer so the incomplete output is discarded, not committed.
            raise SeedVRError(f"{input_path}: decoded {frames_done} frames, expected {info.frames}")
    seconds = time.perf_counter() - started
    report = RepairReport(
        input=str(input_path),
        mask=str(mask_path),
        output=str(output_path),
        method=chosen.name,
        frames=frames_done,
        width=info.width,
        height=info.height,
        fps=str(info.fps),
        masked_fraction=round(masked_pixels / max(1, frames_done * info.width * info.height), 6),
        masked_pixels=masked_pixels,
        seconds=round(seconds, 3),
        frames_per_second=round(frames_done / max(seconds, 1e-9), 3),
        chunk=chunk,
        overlap=overlap,
        max_side=max_side,
        mask_dilate=mask_dilate,
        tile_pixels=tile_pixels,
        details=chosen.details if writer.precision_note is None else {**chosen.details, "precision": writer.precision_note},
        crop=crop_stats.to_dict() if crop_stats else {"enabled": False},
    )
    if report_path is not None:
        report.write(report_path)
    return report
