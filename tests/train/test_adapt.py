"""Per-video adaptation: it learns the video, on a copy, deterministically, from known pixels only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.train.adapt import KnownPixelSamples, adapt_pipeline, grow_mask

MAGENTA = np.array([255, 0, 255], np.uint8)


def static_stripes(frames: int = 8, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A still shot of horizontal stripes with a square hole: nothing moves, so propagation has
    nothing to carry into a hole, while the pattern around it says exactly what belongs there.
    A model can learn that from the video itself in a few dozen steps."""
    y = np.arange(size)[:, None].repeat(size, 1)
    band = (y // 3) % 2
    image = np.stack([band * 200 + 20, band * 50 + 100, 255 - band * 200], -1).astype(np.uint8)
    video = np.repeat(image[None], frames, 0)
    masks = np.zeros(video.shape[:3], bool)
    masks[:, 24:40, 24:40] = True
    return video, masks


def state(pipeline: SeedVRPipeline) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{key}": value.detach().clone()
        for name in ("denoiser", "temporal_encoder", "detail_net", "texture_net")
        for key, value in getattr(pipeline, name).state_dict().items()
    }


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


@pytest.fixture(scope="module")
def pipeline() -> SeedVRPipeline:
    return SeedVRPipeline.from_preset("tiny", seed=0)


def test_adaptation_learns_the_video_on_a_copy(pipeline):
    video, masks = static_stripes()
    before = state(pipeline)
    adapted, report = adapt_pipeline(pipeline, video, masks, 25, batch_size=2, lr=1e-3, seed=0)
    assert adapted is not pipeline
    assert same_state(state(pipeline), before), "the caller's pipeline must be untouched"
    assert not same_state(state(adapted), before), "adaptation must change the copy's weights"
    assert report.steps == 25 and report.stopped_by == "steps" and report.samples == 50
    assert len(report.losses) == 25 and report.frames == 8 and report.crop_size == 32
    # Same fixed batch and noise before and after, and the training loss trend.
    assert report.eval_loss_after < 0.9 * report.eval_loss_before, report
    assert np.mean(report.losses[-3:]) < np.mean(report.losses[:3]), report.losses
    # The adapted copy still repairs and keeps every known pixel.
    repaired = adapted(video[:4], masks[:4], num_inference_steps=2, seed=0).frames
    np.testing.assert_array_equal(repaired[~masks[:4]], video[:4][~masks[:4]])


def test_the_same_seed_gives_the_same_weights(pipeline):
    video, masks = static_stripes(frames=4, size=32)
    run = lambda seed: adapt_pipeline(pipeline, video, masks, 2, crop_size=16, batch_size=1, seed=seed, evaluate=False)  # noqa: E731
    (first, first_report), (again, again_report), (other, _) = run(3), run(3), run(4)
    assert same_state(state(first), state(again)) and first_report.losses == again_report.losses
    assert not same_state(state(first), state(other))


def test_synthetic_holes_lie_on_known_pixels_only():
    """Pixels under the user's mask are magenta (and nothing else is): no hole may reach one."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 200, (8, 48, 64, 3), dtype=np.uint8)  # never magenta
    masks = np.zeros(frames.shape[:3], bool)
    for t in range(8):  # a moving block, a static bar and scattered specks
        masks[t, 10:26, 4 + 4 * t : 20 + 4 * t] = True
    masks[:, 30:34, :] = True
    masks |= rng.random(masks.shape) < 0.01
    frames[masks] = MAGENTA
    margin = 2
    sampler = KnownPixelSamples(
        [frames[:5], frames[5:]],
        [masks[:5], masks[5:]],
        clip_frames=4,
        crop_size=24,
        kinds=("stroke", "blotch", "scratch", "logo"),
        mask_ratio=(0.05, 0.3),
        margin=margin,
        seed=1,
    )
    holes = 0
    for index in range(40):
        sample = sampler.sample(index)
        magenta = (sample.clean == MAGENTA).all(axis=-1)
        assert not (sample.hole & sample.unknown).any()
        assert not (grow_mask(magenta, margin) & sample.hole).any(), "a synthetic hole touches the user's mask"
        assert not magenta[sample.hole].any(), "a training target lies inside the user's mask"
        outside = ~sample.hole
        np.testing.assert_array_equal(sample.damaged[outside], sample.clean[outside])
        holes += int(sample.hole.sum())
    assert holes > 0


def test_steps_zero_and_the_time_budget(pipeline):
    video, masks = static_stripes(frames=3, size=20)
    unchanged, report = adapt_pipeline(pipeline, video[:, :, :18], masks[:, :, :18], 0)
    assert report.steps == 0 and report.crop_size == 16  # min(32, 20, 18) rounded down to the 4-pixel patch
    assert same_state(state(unchanged), state(pipeline)) and unchanged is not pipeline
    _, report = adapt_pipeline(pipeline, video, masks, 50, seconds=1e-3, batch_size=1)
    assert report.stopped_by == "seconds" and report.steps < 50


@pytest.mark.parametrize("case", ["negative", "absurd", "seconds", "too_small", "all_masked", "mask_shape", "batch"])
def test_bad_parameters_are_one_clear_error(pipeline, case):
    video, masks = static_stripes(frames=2, size=16)
    kwargs, steps = {}, 1
    if case == "negative":
        steps = -1
    elif case == "absurd":
        steps = 100_001
    elif case == "seconds":
        kwargs["seconds"] = 0.0
    elif case == "too_small":
        video, masks = video[:, :6, :6], masks[:, :6, :6]
    elif case == "all_masked":
        masks = np.ones_like(masks)
    elif case == "mask_shape":
        masks = masks[:, :8]
    elif case == "batch":
        kwargs["batch_size"] = 0
    with pytest.raises(SeedVRError) as error:
        adapt_pipeline(pipeline, video, masks, steps, **kwargs)
    assert "\n" not in str(error.value)
