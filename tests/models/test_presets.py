"""Size presets: parameter budgets, meta-device counting, wiring between components, seeding."""

from __future__ import annotations

import psutil
import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.models.presets import PRESETS, build_models, count_parameters

COMPONENTS = {"denoiser", "temporal_encoder", "detail_net", "texture_net"}


@pytest.mark.parametrize(
    ("preset", "low", "high"),
    [("tiny", 0.5e6, 2e6), ("small", 10e6, 30e6), ("base", 100e6, 300e6), ("7b", 6.5e9, 7.5e9)],
)
def test_parameter_budgets(preset, low, high):
    counts = count_parameters(preset)
    assert set(counts) == COMPONENTS | {"total"}
    assert counts["total"] == sum(counts[name] for name in COMPONENTS)
    assert low <= counts["total"] <= high


def test_7b_matches_the_released_seedvr_width():
    config = PRESETS["7b"].denoiser
    assert (config["hidden_size"], config["num_heads"]) == (3072, 24)


def test_counting_7b_allocates_no_weights():
    process = psutil.Process()
    before = process.memory_info().rss
    models = build_models("7b", device="meta")
    assert all(p.is_meta for model in models.values() for p in model.parameters())
    counts = count_parameters("7b")
    # 6.8e9 float32 weights would be ~27 GB; the meta device must stay within noise.
    assert process.memory_info().rss - before < 200e6
    assert counts["total"] == sum(p.numel() for model in models.values() for p in model.parameters())


@pytest.mark.parametrize("preset", ["tiny", "7b"])
def test_components_fit_together(preset):
    # Shapes flow through the whole chain on the meta device: no memory, any preset size.
    models = build_models(preset, device="meta")
    with torch.device("meta"):
        clip = torch.empty(1, 3, 3, 37, 29)
        mask = torch.empty(1, 3, 1, 37, 29)
        flow = torch.empty(1, 3, 2, 37, 29)
        features = models["temporal_encoder"](clip, mask, clip, mask, flow)
        estimate = models["denoiser"](clip, 10, clip, mask, clip, mask, clip, features)
        estimate = models["detail_net"](estimate, clip, mask, clip, mask)
        estimate = models["texture_net"](estimate, clip, mask)
    assert estimate.shape == clip.shape


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = build_models("tiny", seed=7)
    assert torch.equal(torch.rand(1), expected_next)  # building did not consume the caller's RNG
    second = build_models("tiny", seed=7)
    other = build_models("tiny", seed=8)
    for name in COMPONENTS:
        a, b, c = (models[name].state_dict() for models in (first, second, other))
        assert all(torch.equal(a[key], b[key]) for key in a)
    assert any(not torch.equal(first["denoiser"].state_dict()[k], v) for k, v in other["denoiser"].state_dict().items())


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SeedVRError, match="tiny, small, base, 7b"):
        count_parameters("huge")
    with pytest.raises(SeedVRError, match="unknown model preset"):
        build_models("Tiny")


def test_preset_configs_are_read_only_copies():
    configs = PRESETS["tiny"].configs()
    configs["denoiser"]["depth"] = 99
    assert PRESETS["tiny"].denoiser["depth"] != 99
    with pytest.raises(TypeError):
        PRESETS["tiny"].denoiser["depth"] = 99  # type: ignore[index]
