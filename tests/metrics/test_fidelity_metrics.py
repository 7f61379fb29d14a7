"""PSNR, SSIM, MS-SSIM and VIF: known answers, masks, small frames and bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.metrics import PSNR_CAP_DB, ms_ssim, ms_ssim_settings, psnr, ssim, vif


def with_noise(video: np.ndarray, amplitude: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, amplitude, video.shape)
    return np.clip(video + noise, 0, 255).astype(np.uint8)


def test_psnr_of_a_constant_error_of_ten_grey_levels(moving_video, offsets):
    brighter = offsets(moving_video, [10] * len(moving_video))
    assert psnr(brighter, moving_video) == pytest.approx(20 * math.log10(255 / 10), abs=1e-9)


def test_psnr_inside_the_mask_sees_only_masked_pixels(moving_video, hole):
    damaged_inside = moving_video.copy()
    damaged_inside[hole] += 10
    fraction = hole.mean()
    assert psnr(damaged_inside, moving_video, hole) == pytest.approx(20 * math.log10(255 / 10), abs=1e-9)
    # Over the whole frame the same error is diluted by the untouched pixels.
    assert psnr(damaged_inside, moving_video) == pytest.approx(10 * math.log10(255**2 / (100 * fraction)), abs=1e-9)
    damaged_outside = moving_video.copy()
    damaged_outside[~hole] += 10
    assert psnr(damaged_outside, moving_video, hole) == PSNR_CAP_DB
    assert psnr(damaged_outside, moving_video) < 40


def test_identical_videos_score_perfectly(moving_video, hole):
    assert psnr(moving_video, moving_video) == PSNR_CAP_DB
    assert psnr(moving_video, moving_video, hole) == PSNR_CAP_DB
    assert ssim(moving_video, moving_video) == pytest.approx(1.0, abs=1e-9)
    assert ssim(moving_video, moving_video, hole) == pytest.approx(1.0, abs=1e-9)
    assert ms_ssim(moving_video, moving_video) == pytest.approx(1.0, abs=1e-6)
    assert vif(moving_video, moving_video) == pytest.approx(1.0, abs=1e-6)


def test_more_noise_scores_worse_on_every_fidelity_metric(moving_video, hole):
    # Perfect scores are checked above; here only the ordering mild > strong (4 frames suffice).
    clip, clip_hole = moving_video[:4], hole[:4]
    mild, strong = with_noise(clip, 4.0), with_noise(clip, 16.0)
    for metric in (psnr, ssim, ms_ssim, vif):
        assert metric(strong, clip) < metric(mild, clip), metric.__name__
    assert ssim(strong, clip, clip_hole) < ssim(mild, clip, clip_hole) < 1.0


def test_ssim_inside_the_mask_ignores_damage_far_outside_it(moving_video, hole):
    damaged = moving_video.copy()
    damaged[:, :, :8] = 0  # a band far from the hole (columns 0-7; hole starts at 20)
    assert ssim(damaged, moving_video, hole) == pytest.approx(1.0, abs=1e-9)
    assert ssim(damaged, moving_video) < 0.95


def test_ms_ssim_scales_follow_the_frame_size():
    betas, kernel, sigma = ms_ssim_settings(256, 256)
    assert betas == (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) and (kernel, sigma) == (11, 1.5)
    betas, kernel, _ = ms_ssim_settings(64, 96)
    assert len(betas) == 3 and kernel == 11 and sum(betas) == pytest.approx(1.0)
    betas, kernel, _ = ms_ssim_settings(8, 8)
    assert kernel < 11 and sum(betas) == pytest.approx(1.0)
    with pytest.raises(SeedVRError, match="too small"):
        ms_ssim_settings(2, 2)


@pytest.mark.parametrize("size", [16, 32])
def test_ms_ssim_works_on_small_frames(moving_video, size):
    small = np.ascontiguousarray(moving_video[:, :size, :size])
    assert ms_ssim(small, small) == pytest.approx(1.0, abs=1e-6)
    assert ms_ssim(with_noise(small, 16.0), small) < 0.99


def test_vif_is_undefined_below_41_pixels(moving_video):
    small = np.ascontiguousarray(moving_video[:, :40, :40])
    assert math.isnan(vif(small, small))


def test_ssim_falls_back_to_a_small_window_on_tiny_frames(moving_video):
    tiny = np.ascontiguousarray(moving_video[:, :8, :8])
    assert ssim(tiny, tiny) == pytest.approx(1.0)
    assert ssim(with_noise(tiny, 16.0), tiny) < 0.99


def test_bad_inputs_are_one_line_errors(moving_video, hole):
    with pytest.raises(SeedVRError, match="uint8"):
        psnr(moving_video.astype(np.float32), moving_video)
    with pytest.raises(SeedVRError, match="differs"):
        ssim(moving_video[:4], moving_video)
    with pytest.raises(SeedVRError, match="mask shape"):
        psnr(moving_video, moving_video, hole[:, :10])
    with pytest.raises(SeedVRError, match="no damaged pixels"):
        ssim(moving_video, moving_video, np.zeros_like(hole))
    with pytest.raises(SeedVRError, match=r"\[T, H, W, 3\]"):
        ms_ssim(moving_video[..., 0], moving_video[..., 0])
