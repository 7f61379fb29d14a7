"""The base model shipped in models/seedvr-base: it loads, it repairs, it is the default model.

A change to the architecture that no longer matches the shipped weights fails here (then run
`seedvr pretrain` again and commit the new folder).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from media_samples import make_panning_clip

from seedvr.engine.methods import make_method
from seedvr.ops.fusion import fused_propagation
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.pipeline.shipped import SHIPPED_BASE_MODEL

MAX_SHIPPED_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def base_pipeline() -> SeedVRPipeline:
    return SeedVRPipeline.from_pretrained(str(SHIPPED_BASE_MODEL), use_safetensors=True, low_cpu_mem_usage=False)


@pytest.fixture(scope="module")
def clip():
    return make_panning_clip(frames=6, size=48, step=2, hole=12)


def test_the_shipped_folder_is_small_safetensors_only_and_has_a_model_card():
    files = [path for path in SHIPPED_BASE_MODEL.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) <= MAX_SHIPPED_BYTES
    weights = [path for path in files if path.suffix in (".safetensors", ".bin", ".pt", ".ckpt", ".pth")]
    assert weights and all(path.suffix == ".safetensors" for path in weights)
    card = (SHIPPED_BASE_MODEL / "README.md").read_text()
    assert "git commit" in card and "reproduce" in card
    assert json.loads((SHIPPED_BASE_MODEL / "training_summary.json").read_text())["steps"] > 0


def test_the_shipped_model_repairs_losslessly_and_differs_from_propagation(base_pipeline, clip):
    frames, masks = clip
    repaired = base_pipeline(frames, masks, seed=0).frames
    assert repaired.shape == frames.shape and repaired.dtype == np.uint8
    assert np.array_equal(repaired[~masks], frames[~masks])
    guess = fused_propagation(frames, masks).guess
    # Trained: its learned stages are no longer the zero residuals of an untrained pipeline.
    assert not np.array_equal(repaired[masks], guess[masks])


def test_seedvr_without_a_model_uses_the_shipped_base(base_pipeline, clip):
    frames, masks = clip
    method = make_method("seedvr", model=None, device="cpu", seed=0)
    assert method.details["model"] == str(SHIPPED_BASE_MODEL)
    assert np.array_equal(method.repair(frames, masks), base_pipeline(frames, masks, seed=0).frames)


def test_the_shipped_schedule_is_the_fast_one(base_pipeline, clip, monkeypatch):
    # Few steps by default: one denoiser call at the coarse and at the medium scale, none at
    # full resolution (the refinement networks work there); more steps stay an option.
    calls = []
    denoiser_forward = type(base_pipeline.denoiser).forward

    def spy(self, sample, *args, **kwargs):
        calls.append(sample.shape[-2:])
        return denoiser_forward(self, sample, *args, **kwargs)

    monkeypatch.setattr(type(base_pipeline.denoiser), "forward", spy)
    frames, masks = clip
    base_pipeline(frames, masks, seed=0)
    assert [tuple(shape) for shape in calls] == [(12, 12), (24, 24)]
    calls.clear()
    base_pipeline(frames, masks, seed=0, num_inference_steps=8)
    assert len(calls) > 2 and (48, 48) not in [tuple(shape) for shape in calls]
