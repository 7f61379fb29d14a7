"""DamageDetector: shapes, seeded init, and a save/load round trip that keeps the logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models.detector import CONTEXT_FRAMES, DamageDetector, neighbour_stack, new_detector, with_cue_channels
from seedvr.ops.damage_cues import CUE_CHANNELS, LUMA_CUE_CHANNELS


def _inputs(height: int = 30, width: int = 45) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    frames = torch.rand(2, CONTEXT_FRAMES, 3, height, width, generator=generator) * 2 - 1
    return frames, torch.rand(2, CUE_CHANNELS, height, width, generator=generator)


def test_one_logit_per_pixel_at_any_size_and_few_parameters():
    detector = new_detector(0)
    frames, cues = _inputs()
    assert detector(frames, cues).shape == (2, 30, 45)
    assert 20_000 < sum(p.numel() for p in detector.parameters()) < 500_000


def test_the_same_seed_gives_the_same_weights():
    first, second, other = new_detector(3), new_detector(3), new_detector(4)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    assert not torch.equal(first.encoders[0][0].weight, other.encoders[0][0].weight)


def test_an_untrained_detector_flags_almost_nothing():
    detector = new_detector(0).eval()
    with torch.no_grad():
        probabilities = torch.sigmoid(detector(*_inputs()))
    assert float((probabilities > 0.5).float().mean()) < 0.01


def test_save_and_load_keep_the_logits(tmp_path):
    detector = new_detector(1).eval()
    detector.save_pretrained(str(tmp_path / "detector"), safe_serialization=True)
    assert (tmp_path / "detector" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = DamageDetector.from_pretrained(str(tmp_path / "detector"), use_safetensors=True, low_cpu_mem_usage=False).eval()
    frames, cues = _inputs()
    with torch.no_grad():
        assert torch.equal(detector(frames, cues), loaded(frames, cues))


def test_neighbour_stack_repeats_the_ends():
    frames = np.stack([np.full((2, 2, 3), value, np.uint8) for value in (0, 100, 255)])
    stacked = neighbour_stack(frames)
    assert stacked.shape == (3, CONTEXT_FRAMES, 3, 2, 2)
    firsts = stacked[:, :, 0, 0, 0]
    expected = torch.tensor([[0, 0, 100], [0, 100, 255], [100, 255, 255]]) / 127.5 - 1
    assert torch.allclose(firsts, expected.float())


def test_wrong_input_shapes_are_one_line():
    frames, cues = _inputs()
    with pytest.raises(SeedVRError, match="cues must be"):
        new_detector(0)(frames, cues[:, :1])


def test_a_detector_widened_to_a_new_cue_gives_the_same_logits_until_trained():
    luma = new_detector(0, channels=8, cue_channels=LUMA_CUE_CHANNELS).eval()
    widened = with_cue_channels(luma, CUE_CHANNELS)
    frames, cues = _inputs()
    with torch.no_grad():
        assert torch.equal(widened(frames, cues), luma(frames, cues[:, :LUMA_CUE_CHANNELS]))
    assert widened.config.cue_channels == CUE_CHANNELS and not widened.training
    assert with_cue_channels(widened, LUMA_CUE_CHANNELS) is widened  # never narrowed
    with pytest.raises(SeedVRError, match="cue maps"):
        DamageDetector(channels=8, cue_channels=3)
