"""The full-resolution refinement runs only near the holes, with the whole-frame result inside them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seedvr.models.detail import DetailRestorationNetwork, TexturePreservationNetwork
from seedvr.pipeline.conditions import RepairConditions
from seedvr.pipeline.pipeline import REFINE_WHOLE_AREA, SeedVRPipeline

FRAMES, HEIGHT, WIDTH = 4, 96, 160


def randomized(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every weight random (the zero-initialised heads too), so the network is no identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    return module


@pytest.fixture(scope="module")
def pipeline() -> SeedVRPipeline:
    pipe = SeedVRPipeline.from_preset("tiny", seed=0)
    randomized(pipe.detail_net, 1)
    randomized(pipe.texture_net, 2)
    return pipe


def conditions_with_holes(holes: list[tuple[slice, slice]], seed: int = 0) -> tuple[RepairConditions, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def video(channels: int) -> torch.Tensor:
        return torch.rand(1, FRAMES, channels, HEIGHT, WIDTH, generator=generator) * 2 - 1

    mask = torch.zeros(1, FRAMES, 1, HEIGHT, WIDTH)
    for rows, cols in holes:
        mask[..., rows, cols] = 1.0
    validity = (torch.rand(1, FRAMES, 1, HEIGHT, WIDTH, generator=generator) > 0.3).float()
    conditions = RepairConditions(
        frames=video(3), mask=mask, guess=video(3), validity=validity, spatial=video(3), flow=video(2) * 0.1
    )
    return conditions, video(3)


# Two small far-apart holes (two rectangles), a hole at the frame's edge, and a tall thin one.
HOLE_SETS = [
    [(slice(10, 18), slice(12, 22)), (slice(70, 80), slice(130, 146))],
    [(slice(0, 6), slice(150, 160))],
    [(slice(0, 96), slice(80, 83))],
]


@pytest.mark.parametrize("holes", HOLE_SETS)
def test_refining_near_the_holes_gives_the_whole_frame_result_inside_them(pipeline, holes):
    conditions, estimate = conditions_with_holes(holes)
    with torch.no_grad():
        sparse = pipeline.refine_details(estimate, conditions)
        whole = pipeline._refine_whole(estimate, conditions)
    inside = conditions.mask.expand_as(estimate) > 0.5
    assert (whole - estimate)[inside].abs().max() > 1e-2  # the networks do change the holes
    torch.testing.assert_close(sparse[inside], whole[inside], atol=1e-5, rtol=0)
    torch.testing.assert_close(sparse[~inside], estimate[~inside], atol=0, rtol=0)


def test_a_rectangle_of_most_of_the_frame_is_still_refined_alone(pipeline, monkeypatch):
    # Rectangles lose no context, so they are used until they cover nearly the whole frame
    # (REFINE_WHOLE_AREA): here about 80 % of it, as in a crop around moving damage.
    conditions, estimate = conditions_with_holes([(slice(20, 76), slice(40, 120))])
    with torch.no_grad():
        whole = pipeline._refine_whole(estimate, conditions)
    widths = []
    refine_whole = SeedVRPipeline._refine_whole

    def spy(self, part, region):
        widths.append(part.shape[-1])
        return refine_whole(self, part, region)

    monkeypatch.setattr(SeedVRPipeline, "_refine_whole", spy)
    with torch.no_grad():
        sparse = pipeline.refine_details(estimate, conditions)
    reach = pipeline.refinement_reach
    assert widths == [80 + 2 * reach] and (80 + 2 * reach) * HEIGHT < REFINE_WHOLE_AREA * HEIGHT * WIDTH
    inside = conditions.mask.expand_as(estimate) > 0.5
    torch.testing.assert_close(sparse[inside], whole[inside], atol=1e-5, rtol=0)


def test_the_reach_is_what_the_networks_really_read():
    # A change just beyond the reach never moves a hole pixel; one well inside it does (the
    # reach is an upper bound: the border band's 2 px only apply to the mask channel).
    detail = randomized(DetailRestorationNetwork(channels=8, num_blocks=1, highpass_kernel=5), 3)
    texture = randomized(TexturePreservationNetwork(channels=8, dilations=(1, 2, 4, 1), edge_band_radius=2), 4)
    pipe = SeedVRPipeline.from_preset("tiny", seed=0)
    pipe.detail_net, pipe.texture_net = detail, texture
    reach = pipe.refinement_reach
    assert reach == detail.receptive_radius + texture.receptive_radius == 11 + 12
    column = 40
    conditions, estimate = conditions_with_holes([(slice(0, HEIGHT), slice(column, column + 1))], seed=5)

    def hole_output(changed_column: int) -> torch.Tensor:
        changed = estimate.clone()
        changed[..., changed_column] += 0.5
        with torch.no_grad():
            return pipe._refine_whole(changed, conditions)[..., column]

    reference = hole_output(WIDTH - 1)
    assert torch.equal(hole_output(column + reach + 1), reference)
    assert not torch.allclose(hole_output(column + detail.receptive_radius), reference, atol=1e-7, rtol=0)


def test_training_still_refines_whole_clips(pipeline):
    conditions, estimate = conditions_with_holes(HOLE_SETS[0])
    estimate.requires_grad_(True)
    refined = pipeline.refine_details(estimate, conditions)
    whole = pipeline._refine_whole(estimate, conditions)
    assert torch.equal(refined, whole)
    refined.sum().backward()
    assert estimate.grad is not None and np.isfinite(estimate.grad.numpy()).all()


def test_settled_hole_pixels_keep_the_estimate_and_the_others_are_refined(pipeline):
    # A still scene; the hole sits at one place in frame 1 and another in frame 2. Frame 1's
    # estimate is what the scene shows there in frame 0 (settled); frame 2's is 40 grey
    # levels off it (not settled): only frame 2's hole is refined.
    scene = torch.rand(1, 1, 3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(7)) * 1.6 - 0.8
    frames = scene.expand(1, FRAMES, 3, HEIGHT, WIDTH).clone()
    conditions, _ = conditions_with_holes([])
    conditions.mask[:, 1, :, 10:20, 10:30] = 1.0
    conditions.mask[:, 2, :, 50:60, 90:110] = 1.0
    conditions.frames = frames * (1.0 - conditions.mask) - conditions.mask  # the holes destroyed
    estimate = frames.clone()
    estimate[:, 2, :, 50:60, 90:110] += 40 / 127.5
    with torch.no_grad():
        refined = pipeline.refine_details(estimate, conditions)
        whole = pipeline._refine_whole(estimate, conditions)
    settled_hole = (slice(None), 1, slice(None), slice(10, 20), slice(10, 30))
    open_hole = (slice(None), 2, slice(None), slice(50, 60), slice(90, 110))
    assert torch.equal(refined[settled_hole], estimate[settled_hole])
    assert (whole[settled_hole] - estimate[settled_hole]).abs().max() > 1e-2  # the networks would move it
    torch.testing.assert_close(refined[open_hole], whole[open_hole], atol=1e-5, rtol=0)
