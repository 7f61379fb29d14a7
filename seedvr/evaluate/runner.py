"""Run every repair method on the same clips of one split and measure each result.

Every method sees exactly the same damaged frames and masks, and is scored against the
same clean frames with the same ground-truth flows, so differences between methods come
from the methods alone. Timing covers only the ``repair`` call: loading the model happens
once, before any clip, and is not charged to the per-frame speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seedvr.engine.methods import RepairMethod, make_method
from seedvr.errors import SeedVRError
from seedvr.method_catalog import METHOD_NAMES, MODEL_METHOD
from seedvr.metrics import compute_all
from seedvr.metrics.per_frame import ewarp_per_frame, psnr_mask_per_frame
from seedvr.ops.flow import estimate_video_flows
from seedvr.pipeline.loading import local_pipeline_folder

# Rows of a sample strip: a few frames spread over the clip are enough to see a method's
# behaviour at the start, middle and end without making the image huge.
STRIP_ROWS = 3

Progress = Callable[[str], None]


@dataclass
class MethodRun:
    """One method on one clip: clip-level metrics, speed and the per-frame series."""

    clip_id: str
    method: str
    damage_kinds: str
    frames: int
    mask_ratio: float
    metrics: dict[str, float]
    seconds: float
    psnr_mask_frames: np.ndarray
    ewarp_frames: np.ndarray

    @property
    def sec_per_frame(self) -> float:
        return self.seconds / self.frames


@dataclass
class StripSample:
    """The few frames of one clip that its sample strip shows, for every column."""

    clip_id: str
    frame_indices: list[int]
    damaged: np.ndarray
    mask: np.ndarray
    truth: np.ndarray
    repaired: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EvaluationRun:
    """Everything measured: one :class:`MethodRun` per (clip, method), and the strip samples."""

    runs: list[MethodRun]
    samples: list[StripSample]
    methods: tuple[str, ...]
    method_details: dict[str, dict]


def check_method_names(methods: Sequence[str] | str) -> tuple[str, ...]:
    """Validate a list (or comma-separated text) of method names; keeps order, drops repeats."""
    if isinstance(methods, str):
        methods = [name.strip() for name in methods.split(",")]
    names = tuple(dict.fromkeys(name for name in methods if name))
    if not names:
        raise SeedVRError(f"no method to evaluate; choose from {', '.join(METHOD_NAMES)}")
    unknown = [name for name in names if name not in METHOD_NAMES]
    if unknown:
        raise SeedVRError(f"unknown method {unknown[0]!r}; valid methods are {', '.join(METHOD_NAMES)}")
    return names


def select_clips(data_dir: str | Path, split: str, max_clips: int | None = None) -> tuple[pd.DataFrame, Path]:
    """The manifest rows of ``split`` (manifest order, at most ``max_clips``) and the dataset root."""
    from seedvr.data.manifest import MANIFEST_FILE, SPLITS, read_manifest

    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise SeedVRError(f"data folder not found: {data_dir}")
    if split not in SPLITS:
        raise SeedVRError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if max_clips is not None and max_clips < 1:
        raise SeedVRError(f"max_clips must be at least 1, got {max_clips}")
    manifest_path = data_dir / MANIFEST_FILE if data_dir.is_dir() else data_dir
    table = read_manifest(manifest_path)
    chosen = table[table["split"] == split].reset_index(drop=True)
    if chosen.empty:
        raise SeedVRError(f"split {split!r} of {manifest_path} has no clips to evaluate")
    if max_clips is not None:
        chosen = chosen.head(max_clips)
    return chosen, manifest_path.parent


def check_model_given(names: Sequence[str], model: str | Path | None) -> None:
    """seedvr cannot run without a model; say so before any data is read."""
    if MODEL_METHOD in names and model is None:
        raise SeedVRError("method seedvr needs a model (--model: a pipeline folder or models:/NAME@ALIAS)")


def model_sampling_steps(folder: str | Path) -> int:
    """The pipeline's own ``num_inference_steps``: what batch repair and serving run when no
    ``steps`` is asked for. Read from its saved scheduler, as ``from_pretrained`` reads it."""
    from seedvr.pipeline.scheduler import HierarchicalRepairScheduler

    try:
        scheduler = HierarchicalRepairScheduler.from_pretrained(str(folder), subfolder="scheduler")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SeedVRError(f"--model {folder}: cannot read its scheduler ({str(error).splitlines()[0]})") from None
    return int(scheduler.config.num_inference_steps)


def load_methods(
    names: Sequence[str], model: str | Path | None, steps: int | None, seed: int, device: str = "auto"
) -> dict[str, RepairMethod]:
    """Build every method up front, so a model that cannot load fails before any clip is repaired.

    seedvr's details record the sampling steps it runs (``steps``) and the model's own
    (``model_steps``, what batch repair ships): ``steps`` ``None`` makes them equal.
    """
    check_model_given(names, model)
    methods = {}
    for name in names:
        if name != MODEL_METHOD:
            methods[name] = make_method(name, steps=steps, device=device, seed=seed)
            continue
        # Resolved once, so the weights loaded and the sampler settings read below come from
        # the same registered version even if its alias moves meanwhile.
        folder = local_pipeline_folder(model, f"--model {model}")
        method = make_method(name, model=folder, steps=steps, device=device, seed=seed)
        model_steps = model_sampling_steps(folder)
        method.details.update(
            {"model": str(model), "steps": steps if steps is not None else model_steps, "model_steps": model_steps}
        )
        methods[name] = method
    return methods


def strip_frame_indices(frames: int, rows: int = STRIP_ROWS) -> list[int]:
    """``rows`` frame indices spread evenly from the first to the last frame."""
    return sorted({int(round(index)) for index in np.linspace(0, frames - 1, min(rows, frames))})


def run_methods_on_clips(
    clips: pd.DataFrame,
    root: Path,
    methods: dict[str, RepairMethod],
    strips: int = 0,
    vgg16_weights: str | Path | None = None,
    progress: Progress | None = None,
) -> EvaluationRun:
    """Repair every clip with every method and score each result against the clean clip."""
    from seedvr.data.dataset import load_damaged_clip

    runs: list[MethodRun] = []
    samples: list[StripSample] = []
    for position, row in enumerate(clips.to_dict("records")):
        clip = load_damaged_clip(row, root)
        clean, damaged, mask = clip["clean"], clip["damaged"], clip["mask"]
        # Ground-truth flows are the same for every method: estimate them once per clip.
        truth_flows = estimate_video_flows(clean) if clean.shape[0] > 1 else None
        sample = None
        if position < strips:
            indices = strip_frame_indices(clean.shape[0])
            sample = StripSample(clip["clip_id"], indices, damaged[indices], mask[indices], clean[indices])
            samples.append(sample)
        for name, method in methods.items():
            started = time.perf_counter()
            repaired = method.repair(damaged, mask)
            seconds = time.perf_counter() - started
            try:
                metrics = compute_all(repaired, clean, mask, vgg16_weights=vgg16_weights, target_flows=truth_flows)
            except SeedVRError as error:
                raise SeedVRError(f"{clip['clip_id']}: {error}") from None
            if truth_flows is not None:
                ewarp_frames = ewarp_per_frame(repaired, mask, truth_flows)
            else:  # a single frame has no t -> t+1 pair
                ewarp_frames = np.full(clean.shape[0], np.nan)
            runs.append(
                MethodRun(
                    clip_id=clip["clip_id"],
                    method=name,
                    damage_kinds=clip["damage_kinds"],
                    frames=int(clean.shape[0]),
                    mask_ratio=float(row["mask_ratio"]),
                    metrics=metrics,
                    seconds=seconds,
                    psnr_mask_frames=psnr_mask_per_frame(repaired, clean, mask),
                    ewarp_frames=ewarp_frames,
                )
            )
            if sample is not None:
                sample.repaired[name] = repaired[sample.frame_indices]
            if progress is not None:
                progress(
                    f"{clip['clip_id']} {name}: psnr_mask {metrics['psnr_mask']:.2f} dB, {seconds / clean.shape[0]:.3f} s/frame"
                )
    return EvaluationRun(runs, samples, tuple(methods), {name: dict(method.details) for name, method in methods.items()})
