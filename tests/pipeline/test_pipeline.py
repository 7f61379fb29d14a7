"""SeedVRPipeline: lossless outside the mask, propagation when untrained, save/load, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from media_samples import make_panning_clip

from seedvr.errors import SeedVRError
from seedvr.ops.envelope import bound_by_temporal_envelope
from seedvr.ops.fusion import fused_propagation
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.pipeline.video_tensors import tensor_to_frames


@pytest.fixture(scope="module")
def small_clip():
    return make_panning_clip(frames=4, size=32, step=2, hole=10)


def perturbed(pipeline: SeedVRPipeline, seed: int = 0) -> SeedVRPipeline:
    """Nudge every weight so the learned residuals stop being exactly zero."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in ("denoiser", "temporal_encoder", "detail_net", "texture_net"):
            for parameter in getattr(pipeline, name).parameters():
                parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.02)
    return pipeline


@pytest.fixture(scope="module")
def trained_like_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("perturbed") / "pipeline"
    perturbed(SeedVRPipeline.from_preset("tiny", seed=3)).save_pretrained(str(folder))
    return folder


def test_untrained_pipeline_reproduces_the_fused_propagation_guess(tiny_pipeline_dir, small_clip):
    frames, masks = small_clip
    pipeline = SeedVRPipeline.from_pretrained(tiny_pipeline_dir)
    result = pipeline(frames, masks, num_inference_steps=4, seed=0)
    np.testing.assert_array_equal(result.frames, fused_propagation(frames, masks).guess)


def test_output_equals_input_outside_the_mask_bit_for_bit(trained_like_dir, small_clip):
    frames, masks = small_clip
    pipeline = SeedVRPipeline.from_pretrained(str(trained_like_dir))
    repaired = pipeline(frames, masks, num_inference_steps=4, seed=0).frames
    assert repaired.dtype == np.uint8 and repaired.shape == frames.shape
    np.testing.assert_array_equal(repaired[~masks], frames[~masks])
    assert not np.array_equal(repaired[masks], frames[masks])


def test_the_models_correction_stays_within_the_guess_temporal_envelope(trained_like_dir, small_clip):
    frames, masks = small_clip
    pipeline = SeedVRPipeline.from_pretrained(str(trained_like_dir))
    result = pipeline(frames, masks, num_inference_steps=4, seed=0)
    # Bounding the repair again changes nothing: every hole pixel already lies within the bound.
    assert np.array_equal(bound_by_temporal_envelope(result.frames, result.guess, masks), result.frames)
    # And the bound is doing work here: the networks' own estimate strays beyond it.
    conditions, _ = pipeline.prepare_conditions(frames, masks)
    with torch.no_grad():
        unbounded = tensor_to_frames(pipeline.repair_tensors(conditions, 4, torch.Generator("cpu").manual_seed(0)))
    unbounded = np.where(masks[..., None], unbounded, frames)
    assert not np.array_equal(bound_by_temporal_envelope(unbounded, result.guess, masks), unbounded)


def test_save_load_round_trip_gives_identical_output(trained_like_dir, small_clip, tmp_path):
    frames, masks = small_clip
    original = SeedVRPipeline.from_pretrained(str(trained_like_dir))
    original.save_pretrained(str(tmp_path / "again"))
    reloaded = SeedVRPipeline.from_pretrained(str(tmp_path / "again"))
    first = original(frames, masks, num_inference_steps=4, seed=7).frames
    second = reloaded(frames, masks, num_inference_steps=4, seed=7).frames
    np.testing.assert_array_equal(first, second)
    weights = sorted(
        path.name for path in (tmp_path / "again").rglob("*") if path.is_file() and "diffusion_pytorch_model" in path.name
    )
    assert weights and all(name.endswith(".safetensors") for name in weights)


def test_same_seed_same_output_other_seed_differs(trained_like_dir, small_clip):
    frames, masks = small_clip
    pipeline = SeedVRPipeline.from_pretrained(str(trained_like_dir))
    first = pipeline(frames, masks, num_inference_steps=4, seed=1).frames
    again = pipeline(frames, masks, num_inference_steps=4, seed=1).frames
    other = pipeline(frames, masks, num_inference_steps=4, seed=2).frames
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_odd_sizes_and_a_single_frame(trained_like_dir):
    pipeline = SeedVRPipeline.from_pretrained(str(trained_like_dir))
    rng = np.random.default_rng(0)
    for shape in ((1, 19, 27), (3, 23, 17)):
        frames = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
        masks = np.zeros(shape, dtype=bool)
        masks[:, 5:12, 4:9] = True
        repaired = pipeline(frames, masks, num_inference_steps=2, seed=0).frames
        assert repaired.shape == frames.shape
        np.testing.assert_array_equal(repaired[~masks], frames[~masks])


def test_empty_mask_returns_the_input(tiny_pipeline_dir, small_clip):
    frames, _ = small_clip
    pipeline = SeedVRPipeline.from_pretrained(tiny_pipeline_dir)
    np.testing.assert_array_equal(pipeline(frames, np.zeros(frames.shape[:3], bool)).frames, frames)


@pytest.mark.parametrize(
    "frames, masks",
    [
        (np.zeros((4, 16, 16, 3), np.uint8), np.zeros((4, 16, 15), bool)),
        (np.zeros((4, 16, 16, 3), np.uint8), np.zeros((3, 16, 16), bool)),
        (np.zeros((4, 16, 16, 3), np.float32), np.zeros((4, 16, 16), bool)),
        (np.zeros((4, 16, 16), np.uint8), np.zeros((4, 16, 16), bool)),
    ],
)
def test_bad_inputs_raise_one_clear_error(tiny_pipeline_dir, frames, masks):
    pipeline = SeedVRPipeline.from_pretrained(tiny_pipeline_dir)
    with pytest.raises(SeedVRError):
        pipeline(frames, masks)
