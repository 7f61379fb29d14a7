"""HierarchicalRepairScheduler: the coarse/medium/fine plan and image-to-image timesteps."""

from __future__ import annotations

import pytest
import torch

from seedvr.errors import SeedVRError
from seedvr.pipeline.scheduler import HierarchicalRepairScheduler


def test_default_plan_is_quarter_half_full():
    stages = HierarchicalRepairScheduler().plan(480, 854)
    assert [s.name for s in stages] == ["coarse", "medium", "fine"]
    assert [(s.height, s.width) for s in stages] == [(120, 214), (240, 427), (480, 854)]
    assert [s.strength for s in stages] == [0.3, 0.5, 0.3]


def test_scales_too_small_to_help_are_dropped_but_fine_always_runs():
    stages = HierarchicalRepairScheduler(min_side=8).plan(16, 16)
    assert [s.name for s in stages] == ["medium", "fine"]
    assert [s.name for s in HierarchicalRepairScheduler().plan(4, 4)] == ["fine"]


def test_coarse_from_noise_starts_the_first_pass_at_full_strength():
    stages = HierarchicalRepairScheduler(coarse_from_noise=True).plan(64, 64)
    assert stages[0].strength == 1.0 and stages[1].strength == 0.5


@pytest.mark.parametrize("sampler", ["ddim", "dpm-solver"])
def test_strength_selects_the_tail_of_the_sampling_schedule(sampler):
    scheduler = HierarchicalRepairScheduler(sampler=sampler, num_inference_steps=20)
    for strength, expected in ((1.0, 20), (0.5, 10), (0.3, 6), (0.0, 0)):
        timesteps = scheduler.stage_timesteps(scheduler.make_sampler(), strength)
        assert len(timesteps) == expected
    tail = scheduler.stage_timesteps(scheduler.make_sampler(), 0.3)
    assert bool((tail[:-1] > tail[1:]).all()), "timesteps must decrease"


def test_add_noise_keeps_signal_at_small_timesteps():
    scheduler = HierarchicalRepairScheduler()
    clean = torch.ones(2, 3, 3, 4, 4) * 0.5
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    slightly = scheduler.add_noise(clean, noise, torch.tensor([0, 0]))
    heavily = scheduler.add_noise(clean, noise, torch.tensor([999, 999]))
    assert (slightly - clean).abs().mean() < (heavily - clean).abs().mean()


def test_config_round_trip(tmp_path):
    scheduler = HierarchicalRepairScheduler(sampler="dpm-solver", num_inference_steps=12, strengths=(0.4, 0.5, 0.2))
    scheduler.save_pretrained(tmp_path)
    loaded = HierarchicalRepairScheduler.from_pretrained(tmp_path)
    assert loaded.config.sampler == "dpm-solver" and tuple(loaded.config.strengths) == (0.4, 0.5, 0.2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scales": (0.5, 0.25, 1.0), "strengths": (0.3, 0.3, 0.3)},
        {"strengths": (0.3, 1.5, 0.3)},
        {"scales": (0.5, 1.0)},
        {"sampler": "euler"},
        {"num_inference_steps": 0},
    ],
)
def test_absurd_settings_are_rejected(kwargs):
    with pytest.raises(SeedVRError):
        HierarchicalRepairScheduler(**kwargs)
