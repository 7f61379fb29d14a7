"""Repair with a pipeline that is already loaded: what the registered model does per row.

A served model loads its pipeline once (``load_context``) and repairs many videos with it,
handing :func:`seedvr.engine.repair.repair_video` a method built around that pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from seedvr.engine.methods import pipeline_method, resolve_device, resolve_dtype
from seedvr.engine.repair import RepairReport, repair_video
from seedvr.errors import SeedVRError
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
    """Repair one video with a loaded ``SeedVRPipeline`` through the streaming engine.

    Same guarantees as ``seedvr repair``: constant memory, output written atomically, pixels
    outside the mask kept byte for byte, every chunk re-seeded with ``seed``.
    """
    method = pipeline_method(pipeline, steps=steps, seed=seed)
    return repair_video(input_path, mask_path, output_path, method=method, chunk=chunk, overlap=overlap, crf=crf)


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
