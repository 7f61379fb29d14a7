"""TemporalConsistencyEncoder: shapes, flow fusion, temporal attention, learning, persistence."""

from __future__ import annotations

import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models.attention import TemporalSelfAttention
from seedvr.models.presets import PRESETS
from seedvr.models.temporal_encoder import TemporalConsistencyEncoder

TINY = PRESETS["tiny"].temporal_encoder


def make_encoder(seed: int = 0, **overrides) -> TemporalConsistencyEncoder:
    torch.manual_seed(seed)
    return TemporalConsistencyEncoder(**{**TINY, **overrides})


def make_inputs(b=1, t=5, h=21, w=17, seed=0):
    generator = torch.Generator().manual_seed(seed)
    frames = torch.rand(b, t, 3, h, w, generator=generator) * 2 - 1
    mask = (torch.rand(b, t, 1, h, w, generator=generator) > 0.7).float()
    flow = torch.randn(b, t, 2, h, w, generator=generator) * 0.05
    flow[:, -1] = 0  # the last frame has no forward flow
    return dict(masked_frames=frames * (1 - mask), mask=mask, propagated=frames, validity=1 - mask, flow=flow)


def test_output_shape_for_odd_sizes():
    features = make_encoder()(**make_inputs(b=2, t=5, h=21, w=17))
    assert features.shape == (2, 5, TINY["out_channels"], 11, 9)
    assert torch.isfinite(features).all()


def test_flow_changes_the_features_and_none_means_zero_flow():
    encoder = make_encoder().eval()
    inputs = make_inputs()
    with torch.no_grad():
        with_flow = encoder(**inputs)
        zero_flow = encoder(**{**inputs, "flow": torch.zeros_like(inputs["flow"])})
        no_flow = encoder(**{**inputs, "flow": None})
    assert torch.equal(zero_flow, no_flow)
    assert (with_flow - zero_flow).abs().max() > 1e-3


def test_flow_at_another_resolution_is_resized():
    encoder = make_encoder().eval()
    inputs = make_inputs(h=16, w=16)
    inputs["flow"] = torch.zeros(1, 5, 2, 8, 8)
    with torch.no_grad():
        assert torch.equal(encoder(**inputs), encoder(**{**inputs, "flow": None}))


def test_temporal_attention_links_distant_frames_at_the_same_pixel_only():
    torch.manual_seed(0)
    attention = TemporalSelfAttention(16, num_heads=2)
    features = torch.randn(1, 16, 8, 5, 5)
    changed = features.clone()
    changed[:, :, 0, 2, 2] += 3.0 * torch.randn(16)  # not a constant: LayerNorm would remove it
    delta = (attention(changed) - attention(features)).abs().amax(dim=1)  # [B, T, H, W]
    assert delta[0, 7, 2, 2] > 1e-4  # frame 0 reaches frame 7 in one layer
    delta[0, :, 2, 2] = 0
    assert delta.max() == 0  # ... and nowhere else


def test_every_parameter_learns():
    encoder = make_encoder()
    inputs = make_inputs(t=3, h=12, w=12)
    target = torch.randn_like(encoder(**inputs))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    losses = []
    for _ in range(2):
        optimizer.zero_grad()
        loss = (encoder(**inputs) - target).square().mean()
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
    missing = [name for name, p in encoder.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []
    assert losses[1] < losses[0]


def test_save_and_load_round_trip(tmp_path):
    encoder = make_encoder().eval()
    inputs = make_inputs()
    encoder.save_pretrained(tmp_path / "encoder")
    loaded = TemporalConsistencyEncoder.from_pretrained(tmp_path / "encoder").eval()
    with torch.no_grad():
        assert torch.equal(encoder(**inputs), loaded(**inputs))


def test_wrong_shapes_are_clear_errors():
    encoder = make_encoder()
    inputs = make_inputs()
    with pytest.raises(SeedVRError, match="flow"):
        encoder(**{**inputs, "flow": inputs["flow"][:, :3]})
    with pytest.raises(SeedVRError, match="validity"):
        encoder(**{**inputs, "validity": inputs["validity"][:, :, :, :4]})
    with pytest.raises(SeedVRError, match="mask"):
        encoder(**{**inputs, "mask": inputs["propagated"]})
