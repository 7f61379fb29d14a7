"""compute_all's keys and perfect scores; LPIPS only with local weights, never a fake number."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.metrics import HIGHER_IS_BETTER, METRIC_KEYS, PSNR_CAP_DB, compute_all, lpips, lpips_available
from seedvr.metrics.lpips import default_linear_heads


def test_compute_all_on_identical_videos_is_perfect(static_video, hole):
    results = compute_all(static_video, static_video, hole)
    assert tuple(results) == METRIC_KEYS
    assert all(isinstance(value, float) for value in results.values())
    assert results["psnr_mask"] == results["psnr"] == PSNR_CAP_DB
    for key in ("ssim_mask", "ssim", "ms_ssim", "vif"):
        assert results[key] == pytest.approx(1.0, abs=1e-6), key
    assert results["ewarp"] < 1e-2
    assert results["tof"] == 0.0 and results["flicker"] == 0.0
    assert set(HIGHER_IS_BETTER) == set(METRIC_KEYS) | {"lpips"}


def test_compute_all_ranks_a_damaged_video_below_the_truth(moving_video, hole):
    damaged = moving_video.copy()
    damaged[hole] = 128
    perfect, broken = compute_all(moving_video, moving_video, hole), compute_all(damaged, moving_video, hole)
    for key in METRIC_KEYS:
        if HIGHER_IS_BETTER[key]:
            assert broken[key] < perfect[key], key
        elif key != "tof":  # a static grey patch does not move, so tOF may barely notice it
            assert broken[key] > perfect[key], key


def test_lpips_is_not_computed_without_weights(moving_video, hole, tmp_path):
    assert lpips_available(None) is False
    assert lpips_available(tmp_path / "missing.pth") is False
    assert lpips(moving_video, moving_video, None) is None
    assert lpips(moving_video, moving_video, tmp_path / "missing.pth") is None
    assert "lpips" not in compute_all(moving_video, moving_video, hole)


def test_lpips_heads_ship_with_torchmetrics():
    heads = default_linear_heads()
    assert heads is not None and heads.name == "vgg.pth"


def test_lpips_with_local_weights(moving_video, hole, random_vgg16_file):
    # A random trunk stands in for ImageNet VGG16 here: the numbers are not real LPIPS values,
    # but the plumbing (key layout, scaling, normalisation, heads, reduction) is exercised.
    # 2 frames of 48x48 keep the full VGG16 trunk cheap on a CPU (VIF still needs >= 41 px).
    clip, clip_hole = np.ascontiguousarray(moving_video[:2, :48, :48]), hole[:2, :48, :48]
    assert lpips_available(random_vgg16_file)
    assert lpips(clip, clip, random_vgg16_file) == pytest.approx(0.0, abs=1e-7)
    rng = np.random.default_rng(0)
    mild = np.clip(clip + rng.normal(0, 4, clip.shape), 0, 255).astype(np.uint8)
    strong = np.clip(clip + rng.normal(0, 24, clip.shape), 0, 255).astype(np.uint8)
    mild_score = lpips(mild, clip, random_vgg16_file)
    assert 0.0 < mild_score < lpips(strong, clip, random_vgg16_file)
    results = compute_all(mild, clip, clip_hole, vgg16_weights=random_vgg16_file)
    assert results["lpips"] == pytest.approx(mild_score)
