"""Repair methods behind one interface: ``repair(frames, masks) -> frames``.

Each method takes ``uint8 [T, H, W, 3]`` frames and ``bool [T, H, W]`` masks and returns
repaired frames that equal the input outside the mask. Which methods exist, and which of
them needs a model, is :data:`seedvr.method_catalog.METHODS`; this module builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from seedvr.baselines.classical import CLASSICAL_METHODS, for_one_stream
from seedvr.errors import SeedVRError
from seedvr.method_catalog import MODEL_METHOD, check_method
from seedvr.ops.blending import BORDER_BLEND, Blend, blend_record, check_blend
from seedvr.ops.flow import PairFlowMemo
from seedvr.ops.shots import shot_slices
from seedvr.pipeline.loading import load_pipeline
from seedvr.pipeline.shipped import shipped_base_model

Precision = Literal["fp32", "bf16", "fp16"]
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}

# The seeds every generator the methods use accepts (torch's, numpy's, Lightning's): 32 bits.
MAX_SEED = 2**32 - 1

# Methods that fill each frame from that frame's own known pixels (OpenCV inpainting). A frame
# masked entirely leaves them nothing; propagate and seedvr can fill it from other frames.
FRAME_BY_FRAME_METHODS = frozenset({"telea", "ns"})


def check_sampling(steps: int | None, seed: int) -> None:
    """A bad ``--steps`` or ``--seed`` is one line before any work, not a traceback deep in torch."""
    if steps is not None and steps < 1:
        raise SeedVRError(f"--steps must be at least 1, got {steps}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise SeedVRError(f"--seed must be between 0 and {MAX_SEED}, got {seed!r}")


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
    # The same method (the same loaded model) with another share of gradient-domain blending;
    # None for a method built elsewhere (it is used as it is).
    rebuild_with_blend: Callable[[Blend], RepairMethod] | None = None


def with_blend(method: RepairMethod, blend: Blend) -> RepairMethod:
    """``method`` repairing with ``blend`` as its share of gradient-domain blending
    (:mod:`seedvr.ops.blending`; telea and ns do not blend and are unchanged)."""
    check_blend(blend)
    if method.rebuild_with_blend is None:
        return method
    variant = method.rebuild_with_blend(blend)
    variant.details = {**method.details, "blend": blend_record(blend)}
    return variant


def per_shot(repair: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    """``repair`` run on each shot of a window apart (:func:`seedvr.ops.shots.shot_slices`): no
    pixel is carried across a scene cut, and a window without cuts is repaired whole."""

    def split(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        shots = shot_slices(frames)
        if len(shots) == 1:
            return repair(frames, masks)
        return np.concatenate([repair(frames[shot], masks[shot]) for shot in shots])

    return split


def requiring_known_pixels(name: str, repair: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    """``repair`` (method ``name``) refusing what it cannot repair, instead of returning it unrepaired.

    A method has nothing to repair from when every pixel it is given is masked, and a
    frame-by-frame method (:data:`FRAME_BY_FRAME_METHODS`) when any one frame is.
    """

    def checked(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        fully_masked = masks.reshape(len(masks), -1).all(axis=1)
        if name in FRAME_BY_FRAME_METHODS and fully_masked.any():
            raise SeedVRError(
                f"a frame is masked entirely and {name} repairs each frame from its own known pixels; "
                "use --method propagate or seedvr, which fill it from other frames"
            )
        if fully_masked.all():
            raise SeedVRError(
                f"every pixel of the {len(masks)} frames {name} repairs together is masked: nothing to repair them "
                "from (mask less, or raise --chunk if other frames show the scene)"
            )
        return repair(frames, masks)

    return checked


def make_method(
    name: str,
    model: str | Path | None = None,
    steps: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    seed: int = 0,
    blend: Blend = BORDER_BLEND,
) -> RepairMethod:
    """Build the repair function for ``name`` (loading the model once for ``seedvr``);
    ``blend``: the share of gradient-domain blending of propagate's and the model's guess;
    ``device``: the model's, and where ``propagate`` and the model's guess propagate."""
    info = check_method(name)
    check_sampling(steps, seed)
    torch_device = resolve_device(device)
    if not info.uses_model:
        repair = for_one_stream(CLASSICAL_METHODS[name], blend, torch_device)
        return RepairMethod(name, repair, rebuild_with_blend=partial(_classical_with_blend, name, str(torch_device)))
    if model is None:
        model = shipped_base_model()
    dtype = resolve_dtype(precision, torch_device)
    pipeline = load_pipeline(model, torch_device, dtype, label=f"--model {model}")
    method = pipeline_method(pipeline, steps=steps, seed=seed, blend=blend)
    method.details.update({"model": str(model), "device": str(torch_device), "precision": precision})
    return method


def _classical_with_blend(name: str, device: str, blend: Blend) -> RepairMethod:
    return make_method(name, device=device, blend=blend)


def pipeline_method(pipeline, steps: int | None = None, seed: int = 0, blend: Blend = BORDER_BLEND) -> RepairMethod:
    """The model's method (``seedvr``) around an already loaded pipeline (a served model loads once)."""
    check_sampling(steps, seed)
    # Windows share frames: their flows are measured once (the result does not depend on it).
    memo = PairFlowMemo()

    def repair_with_model(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        # Re-seeding per chunk makes a chunk's result independent of what came before it.
        generator = torch.Generator("cpu").manual_seed(seed)
        return pipeline(frames, masks, num_inference_steps=steps, generator=generator, flow_memo=memo, blend=blend).frames

    return RepairMethod(
        MODEL_METHOD,
        repair_with_model,
        {"steps": steps, "seed": seed},
        rebuild_with_blend=lambda share: pipeline_method(pipeline, steps, seed, share),
    )
