"""Repair methods behind one interface: ``repair(frames, masks) -> frames``.

Each method takes ``uint8 [T, H, W, 3]`` frames and ``bool [T, H, W]`` masks and returns
repaired frames that equal the input outside the mask. Which methods exist, and which of
them needs a model, is :data:`seedvr.method_catalog.METHODS`; this module builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from seedvr.baselines.classical import CLASSICAL_METHODS
from seedvr.errors import SeedVRError
from seedvr.method_catalog import MODEL_METHOD, check_method
from seedvr.pipeline.loading import load_pipeline
from seedvr.pipeline.shipped import shipped_base_model

Precision = Literal["fp32", "bf16", "fp16"]
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for CUDA without a GPU is a user error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise SeedVRError(f"unknown device {device!r}; choose auto, cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SeedVRError("--device cuda was asked for but no CUDA GPU is available")
    return torch.device(device)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    if precision not in _DTYPES:
        raise SeedVRError(f"unknown precision {precision!r}; choose fp32, bf16 or fp16")
    if precision == "fp16" and device.type != "cuda":
        raise SeedVRError("fp16 inference needs a CUDA GPU; use fp32 or bf16 on the CPU")
    return _DTYPES[precision]


@dataclass
class RepairMethod:
    """A named repair function over one chunk of frames."""

    name: str
    repair: Callable[[np.ndarray, np.ndarray], np.ndarray]
    details: dict = field(default_factory=dict)


def make_method(
    name: str,
    model: str | Path | None = None,
    steps: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    seed: int = 0,
) -> RepairMethod:
    """Build the repair function for ``name`` (loading the model once for ``seedvr``)."""
    info = check_method(name)
    if steps is not None and steps < 1:
        raise SeedVRError(f"--steps must be at least 1, got {steps}")
    if not info.uses_model:
        classical = CLASSICAL_METHODS[name]
        return RepairMethod(name, lambda frames, masks: classical(frames, masks))
    if model is None:
        model = shipped_base_model()
    torch_device = resolve_device(device)
    dtype = resolve_dtype(precision, torch_device)
    pipeline = load_pipeline(model, torch_device, dtype, label=f"--model {model}")
    method = pipeline_method(pipeline, steps=steps, seed=seed)
    method.details.update({"model": str(model), "device": str(torch_device), "precision": precision})
    return method


def pipeline_method(pipeline, steps: int | None = None, seed: int = 0) -> RepairMethod:
    """The model's method (``seedvr``) around an already loaded pipeline (a served model loads once)."""
    if steps is not None and steps < 1:
        raise SeedVRError(f"--steps must be at least 1, got {steps}")

    def repair_with_model(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        # Re-seeding per chunk makes a chunk's result independent of what came before it.
        generator = torch.Generator("cpu").manual_seed(seed)
        return pipeline(frames, masks, num_inference_steps=steps, generator=generator).frames

    return RepairMethod(MODEL_METHOD, repair_with_model, {"steps": steps, "seed": seed})
