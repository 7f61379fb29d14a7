"""SeedVRLoss: zero for a perfect fill, growing with the error, differentiable, right backend."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from seedvr.config import LossParams, Params
from seedvr.errors import SeedVRError
from seedvr.losses import LOSS_TERMS, SeedVRLoss, composite
from seedvr.losses.temporal import align_previous_frames

IMAGE_TERMS = ("content", "perceptual", "style", "temporal", "edge")


def noisy(clip: torch.Tensor, amplitude: float, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (clip + amplitude * torch.randn(clip.shape, generator=generator)).clamp(0.0, 1.0)


class TinyDiscriminator(nn.Module):
    """Per-frame realness from the mean colour: enough to have gradients, and countable calls."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Linear(3, 1)
        self.calls = 0

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.score(clip.mean(dim=(-2, -1)))


def test_a_loss_built_without_arguments_is_the_one_params_yaml_trains_with():
    from_params = SeedVRLoss.from_params(Params().loss)
    default = SeedVRLoss()
    assert default.weights == from_params.weights
    assert (default.adversarial_mode, default.edge_band) == (from_params.adversarial_mode, from_params.edge_band)
    assert default.perceptual_backend == from_params.perceptual_backend


def test_every_term_is_zero_for_a_perfect_prediction(clip, hole_mask):
    out = SeedVRLoss()(clip.clone(), clip, hole_mask)
    assert set(out) == {"total", *LOSS_TERMS}
    for name, value in out.items():
        assert value.ndim == 0
        assert abs(float(value)) < 1e-6, name


@pytest.mark.parametrize("name", IMAGE_TERMS)
def test_each_term_grows_with_the_noise_amplitude(clip, hole_mask, name):
    loss = SeedVRLoss()
    mild = float(loss(noisy(clip, 0.03), clip, hole_mask)[name])
    strong = float(loss(noisy(clip, 0.15), clip, hole_mask)[name])
    assert 0.0 < mild < strong


def test_total_is_the_weighted_sum(clip, hole_mask):
    loss = SeedVRLoss(content=2.0, perceptual=0.0, style=1.5, temporal=0.7, edge=0.4)
    out = loss(noisy(clip, 0.1), clip, hole_mask)
    expected = sum(loss.weights[name] * out[name] for name in LOSS_TERMS)
    assert torch.allclose(out["total"], expected)


@pytest.mark.parametrize("name", IMAGE_TERMS)
def test_gradients_reach_the_prediction_inside_the_hole(clip, hole_mask, name):
    pred = noisy(clip, 0.1).requires_grad_(True)
    SeedVRLoss()(pred, clip, hole_mask)[name].backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    inside = pred.grad * hole_mask
    assert inside.abs().sum() > 0
    if name != "content":
        # Composite-based terms cannot see (or push) pixels that compositing throws away.
        assert (pred.grad * (1 - hole_mask)).abs().sum() == 0


def test_content_is_normalised_by_the_hole_area(clip, hole_mask):
    # A constant error of 0.1 inside the hole is an L1 of 0.1 whatever the hole size.
    pred = clip + 0.1 * hole_mask
    assert float(SeedVRLoss()(pred, clip, hole_mask)["content"]) == pytest.approx(0.1, rel=1e-5)
    small = torch.zeros_like(hole_mask)
    small[..., 14:16, 14:16] = 1.0
    assert float(SeedVRLoss()(clip + 0.1 * small, clip, small)["content"]) == pytest.approx(0.1, rel=1e-5)


def test_temporal_ranks_flicker_above_a_steady_error(clip, hole_mask):
    signs = torch.tensor([1.0, -1.0, 1.0, -1.0]).view(1, 4, 1, 1, 1)
    steady = clip + 0.1 * hole_mask  # wrong, but wrong the same way in every frame
    flickering = clip + 0.1 * signs * hole_mask
    loss = SeedVRLoss()
    steady_out, flicker_out = loss(steady, clip, hole_mask), loss(flickering, clip, hole_mask)
    assert float(steady_out["temporal"]) < 1e-6
    assert float(flicker_out["temporal"]) > 0.1
    # Same per-frame error: only the temporal term tells them apart.
    assert float(steady_out["content"]) == pytest.approx(float(flicker_out["content"]))


def test_flow_aligned_temporal_term_follows_motion(make_clip):
    shift = 2
    target = make_clip(shift_per_frame=shift)
    mask = torch.zeros(1, 4, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1.0
    # target[t](x) = canvas(x + 2t), so target[t+1](x) = target[t](x + 2): backward flow +2.
    flow = torch.zeros(1, 3, 2, 32, 32)
    flow[:, :, 0] = float(shift)
    loss = SeedVRLoss()
    assert float(loss(target.clone(), target, mask, target_flow=flow)["temporal"]) < 1e-6
    signs = torch.tensor([1.0, -1.0, 1.0, -1.0]).view(1, 4, 1, 1, 1)
    steady = loss(target + 0.1 * mask, target, mask, target_flow=flow)["temporal"]
    flickering = loss(target + 0.1 * signs * mask, target, mask, target_flow=flow)["temporal"]
    assert float(flickering) > 5 * float(steady)


def test_flow_convention_matches_estimate_video_flows(make_clip):
    """The loss expects flow.py's *backward* flows: with them frame t lands on frame t+1."""
    from seedvr.ops.flow import estimate_video_flows

    target = make_clip(frames=3, size=48, shift_per_frame=2)
    video = (target[0].permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()
    forward, backward = estimate_video_flows(video)
    interior = (slice(None), slice(None), slice(8, 40), slice(8, 40))  # away from the borders

    def misalignment(flows):
        channels_first = torch.from_numpy(flows).permute(0, 3, 1, 2).unsqueeze(0)
        aligned, _ = align_previous_frames(target, channels_first)
        return float((aligned - target[:, 1:].flatten(0, 1))[interior].abs().mean())

    assert misalignment(backward) < 0.02
    assert misalignment(backward) < 0.3 * misalignment(forward)


def test_edge_term_sees_a_seam_but_not_a_seamless_fill(clip, hole_mask):
    loss = SeedVRLoss()
    seam = clip + 0.2 * hole_mask  # a brightness step all around the hole border
    assert float(loss(seam, clip, hole_mask)["edge"]) > 0.01
    inside_only = torch.zeros_like(hole_mask)
    inside_only[..., 14:18, 14:18] = 1.0  # error far from the border (band radius 3)
    assert float(loss(clip + 0.2 * inside_only, clip, hole_mask)["edge"]) < 1e-6


def test_single_frame_clip_has_zero_temporal_term(clip, hole_mask):
    out = SeedVRLoss()(noisy(clip[:, :1], 0.1), clip[:, :1], hole_mask[:, :1])
    assert float(out["temporal"]) == 0.0
    assert float(out["content"]) > 0.0


def test_structural_backend_without_weights(clip, hole_mask, caplog):
    assert SeedVRLoss().perceptual_backend == "structural"
    with caplog.at_level(logging.WARNING):
        loss = SeedVRLoss(vgg16_weights="/nonexistent/vgg16-397923af.pth")
    assert loss.perceptual_backend == "structural"
    assert "not found" in caplog.text


def test_vgg_backend_with_a_torchvision_format_file(clip, hole_mask, random_vgg16_file):
    loss = SeedVRLoss(vgg16_weights=random_vgg16_file)
    assert loss.perceptual_backend == "vgg16"
    assert loss.perceptual_model.vgg.features[0].weight.requires_grad is False
    assert float(loss(clip.clone(), clip, hole_mask)["perceptual"]) < 1e-6
    mild, strong = (loss(noisy(clip, amplitude), clip, hole_mask) for amplitude in (0.03, 0.15))
    for name in ("perceptual", "style"):
        assert 0.0 < float(mild[name]) < float(strong[name])
    pred = noisy(clip, 0.1).requires_grad_(True)
    out = loss(pred, clip, hole_mask)
    (out["perceptual"] + out["style"]).backward()
    assert (pred.grad * hole_mask).abs().sum() > 0


def test_vgg_loader_rejects_a_file_that_is_not_vgg16(tmp_path, clip):
    wrong = tmp_path / "not-vgg.pth"
    torch.save({"features.0.weight": torch.zeros(8, 3, 3, 3)}, wrong)
    with pytest.raises(SeedVRError, match="not a torchvision VGG16"):
        SeedVRLoss(vgg16_weights=str(wrong))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a torch file")
    with pytest.raises(SeedVRError, match="not a readable"):
        SeedVRLoss(vgg16_weights=str(garbage))


def test_adversarial_term_only_when_enabled_with_a_discriminator(clip, hole_mask):
    pred = noisy(clip, 0.1)
    discriminator = TinyDiscriminator()
    off = SeedVRLoss()(pred, clip, hole_mask, discriminator=discriminator)
    assert float(off["adversarial"]) == 0.0 and discriminator.calls == 0
    no_discriminator = SeedVRLoss(adversarial=0.5)(pred, clip, hole_mask)
    assert float(no_discriminator["adversarial"]) == 0.0

    enabled = SeedVRLoss(adversarial=0.5)
    pred = pred.requires_grad_(True)
    out = enabled(pred, clip, hole_mask, discriminator=discriminator)
    assert discriminator.calls == 1 and float(out["adversarial"].detach()) != 0.0
    others = sum(enabled.weights[name] * out[name] for name in IMAGE_TERMS)
    assert float((out["total"] - others).detach()) == pytest.approx(0.5 * float(out["adversarial"].detach()), abs=1e-6)
    out["adversarial"].backward()
    assert (pred.grad * hole_mask).abs().sum() > 0


def test_composite_keeps_the_target_outside_the_hole(clip, hole_mask):
    mixed = composite(torch.zeros_like(clip), clip, hole_mask)
    assert torch.equal(mixed * (1 - hole_mask), clip * (1 - hole_mask))
    assert torch.equal(mixed * hole_mask, torch.zeros_like(clip))


def test_bad_shapes_and_parameters_are_clear_errors(clip, hole_mask):
    loss = SeedVRLoss()
    with pytest.raises(SeedVRError, match="mask must be"):
        loss(clip, clip, hole_mask[:, :2])
    with pytest.raises(SeedVRError, match="differs"):
        loss(clip, clip[:, :2], hole_mask)
    with pytest.raises(SeedVRError, match="target_flow"):
        loss(clip, clip, hole_mask, target_flow=torch.zeros(1, 4, 2, 32, 32))
    with pytest.raises(ValueError, match=">= 0"):
        SeedVRLoss(edge=-1.0)
    with pytest.raises(ValueError):
        LossParams(adversarial_mode="wasserstein")
