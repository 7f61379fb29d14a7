"""Repair with a pipeline that is already loaded: what the registered model does per row.

:func:`seedvr.engine.repair.repair_video` loads its model from a folder or URI on every call;
a served model loads once (``load_context``) and repairs many videos, so this module drives
the same streaming pieces of :mod:`seedvr.engine` with the loaded pipeline instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from seedvr.engine.methods import resolve_device, resolve_dtype
from seedvr.engine.repair import RepairReport
from seedvr.engine.streaming import check_chunking, stream_repair
from seedvr.errors import SeedVRError
from seedvr.io import VideoWriter, iter_mask_chunks, iter_video_chunks, probe
from seedvr.registry.signature import INPUT_COLUMNS, OUTPUT_COLUMNS, PARAM_DEFAULTS


def place_pipeline(pipeline, device: str = "auto", precision: str = "fp32"):
    """Move ``pipeline`` to the device and precision asked for (checked like the CLI's)."""
    torch_device = resolve_device(device)
    return pipeline.to(device=torch_device, dtype=resolve_dtype(precision, torch_device))


def repair_with_pipeline(
    pipeline,
    input_path: str | Path,
    mask_path: str | Path,
    output_path: str | Path,
    steps: int | None = None,
    seed: int = 0,
    chunk: int = 32,
    overlap: int = 8,
    crf: int = 18,
) -> RepairReport:
    """Repair one video with a loaded ``SeedVRPipeline``, streaming like ``repair_video``.

    Same guarantees: constant memory, output written atomically, pixels outside the mask
    kept byte for byte, every chunk re-seeded with ``seed`` (a chunk's result does not
    depend on the chunks before it).
    """
    input_path, mask_path, output_path = Path(input_path), Path(mask_path), Path(output_path)
    check_chunking(chunk, overlap)
    if steps is not None and steps < 1:
        raise SeedVRError(f"steps must be at least 1, got {steps}")
    if not output_path.parent.is_dir():
        raise SeedVRError(f"output folder does not exist: {output_path.parent}")
    if output_path.resolve() == input_path.resolve():
        raise SeedVRError("the output path must differ from the input: inputs are never overwritten")
    info = probe(input_path)
    # Reading the first mask chunk up front checks its size before any model work.
    next(iter_mask_chunks(mask_path, 1, info), None)

    def repair(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        generator = torch.Generator("cpu").manual_seed(seed)
        return pipeline(frames, masks, num_inference_steps=steps, generator=generator).frames

    masked_pixels = 0

    def pairs():
        nonlocal masked_pixels
        for frames, masks in zip(iter_video_chunks(input_path, chunk), iter_mask_chunks(mask_path, chunk, info)):
            masked_pixels += int(masks.sum())
            yield frames, masks

    frames_done = 0
    started = time.perf_counter()
    with VideoWriter(output_path, fps=info.fps, width=info.width, height=info.height, audio_from=input_path, crf=crf) as writer:
        for repaired in stream_repair(pairs(), repair, chunk, overlap):
            writer.write(repaired)
            frames_done += len(repaired)
        if frames_done != info.frames:
            # Raised inside the writer so the incomplete output is discarded.
            raise SeedVRError(f"{input_path}: decoded {frames_done} frames, expected {info.frames}")
    seconds = time.perf_counter() - started
    return RepairReport(
        input=str(input_path),
        mask=str(mask_path),
        output=str(output_path),
        method="seedvr",
        frames=frames_done,
        width=info.width,
        height=info.height,
        fps=str(info.fps),
        masked_fraction=round(masked_pixels / max(1, frames_done * info.width * info.height), 6),
        seconds=round(seconds, 3),
        frames_per_second=round(frames_done / max(seconds, 1e-9), 3),
        chunk=chunk,
        overlap=overlap,
        max_side=None,
        mask_dilate=0,
        details={"steps": steps, "seed": seed},
    )


def report_row(report: RepairReport) -> dict:
    """One output row of the registered model (columns of :data:`OUTPUT_COLUMNS`)."""
    values = {
        "video_path": report.input,
        "mask_path": report.mask,
        "output_path": report.output,
        "frames": report.frames,
        "width": report.width,
        "height": report.height,
        "fps": report.fps,
        "masked_fraction": report.masked_fraction,
        "seconds": report.seconds,
        "frames_per_second": report.frames_per_second,
    }
    return {name: values[name] for name, _ in OUTPUT_COLUMNS}


def merged_params(params: Mapping | None) -> dict:
    """Inference params with the signature's defaults filled in (``None`` means default)."""
    merged = dict(PARAM_DEFAULTS)
    for key, value in (params or {}).items():
        if key not in merged:
            raise SeedVRError(f"unknown inference param {key!r}; choose from {', '.join(merged)}")
        if value is not None:
            merged[key] = value
    return merged


def repair_table(pipeline, table: pd.DataFrame, params: Mapping | None = None) -> pd.DataFrame:
    """Repair every row of ``table`` (columns ``video_path``, ``mask_path``, ``output_path``)."""
    if not isinstance(table, pd.DataFrame):
        raise SeedVRError(f"the model takes a pandas DataFrame, got {type(table).__name__}")
    missing = [column for column in INPUT_COLUMNS if column not in table.columns]
    if missing:
        raise SeedVRError(f"input is missing column(s) {', '.join(missing)}; expected {', '.join(INPUT_COLUMNS)}")
    settings = merged_params(params)
    steps = None if settings["steps"] is None else int(settings["steps"])
    rows = [
        report_row(
            repair_with_pipeline(
                pipeline,
                str(row.video_path),
                str(row.mask_path),
                str(row.output_path),
                steps=steps,
                seed=int(settings["seed"]),
                chunk=int(settings["chunk"]),
                overlap=int(settings["overlap"]),
            )
        )
        for row in table.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=[name for name, _ in OUTPUT_COLUMNS])
