"""PatchDiscriminator3D: patch logits, spectral normalisation, gradients, persistence."""

from __future__ import annotations

import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models.discriminator import PatchDiscriminator3D


def make_discriminator(seed=0, **overrides):
    torch.manual_seed(seed)
    return PatchDiscriminator3D(**{"base_channels": 8, **overrides})


def test_logits_cover_space_time_patches():
    logits = make_discriminator()(torch.rand(2, 8, 3, 64, 64) * 2 - 1)
    assert logits.shape == (2, 1, 2, 8, 8)
    assert make_discriminator(temporal_downsample=False)(torch.zeros(1, 8, 3, 32, 32)).shape == (1, 1, 8, 4, 4)


def test_spectral_norm_bounds_every_layer():
    discriminator = make_discriminator().train()
    video = torch.randn(1, 2, 3, 16, 16)
    for _ in range(20):  # power iterations run in training forwards
        discriminator(video)
    convs = [m for m in discriminator.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 4
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_gradients_reach_the_video_and_every_weight():
    discriminator = make_discriminator()
    video = torch.randn(1, 4, 3, 32, 32, requires_grad=True)
    discriminator(video).mean().backward()
    assert video.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in discriminator.parameters())


def test_save_and_load_round_trip(tmp_path):
    discriminator = make_discriminator().train()
    video = torch.randn(1, 4, 3, 32, 32)
    discriminator(video)
    discriminator.eval()
    discriminator.save_pretrained(tmp_path / "disc")
    loaded = PatchDiscriminator3D.from_pretrained(tmp_path / "disc").eval()
    with torch.no_grad():
        assert torch.equal(discriminator(video), loaded(video))


def test_wrong_input_is_a_clear_error():
    with pytest.raises(SeedVRError, match="B, T, 3, H, W"):
        make_discriminator()(torch.zeros(1, 3, 32, 32))
