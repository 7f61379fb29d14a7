"""The film-damage cues: a one-frame blotch spikes, clean motion does not, a scratch is a line."""

from __future__ import annotations

import numpy as np
import pytest
from media_samples import make_panning_clip

from seedvr.errors import SeedVRError
from seedvr.ops.damage_cues import (
    CUE_CHANNELS,
    CUE_COUNTS,
    LUMA_CUE_CHANNELS,
    TEMPORAL_CUES,
    colour_line_response,
    damage_cues,
    temporal_cues,
    thin_line_response,
)


@pytest.fixture(scope="session")
def translating_clip() -> np.ndarray:
    return make_panning_clip()[0]  # 8 frames of 64x64, a pan over a photograph


def _static_clip(frames: int = 8) -> np.ndarray:
    return np.repeat(make_panning_clip(frames=1)[0], frames, axis=0)


def test_shapes_and_dtype(translating_clip):
    cues = damage_cues(translating_clip)
    assert cues.shape == (8, CUE_CHANNELS, 64, 64) and cues.dtype == np.float32


@pytest.mark.parametrize("make", [_static_clip, lambda: make_panning_clip()[0]], ids=["static", "translating"])
def test_temporal_cues_are_about_zero_on_clean_clips(make):
    cues = np.abs(temporal_cues(make()))
    assert float(np.percentile(cues[:, :2], 99.5)) < 0.02  # the spike: outside both neighbours
    assert float(np.percentile(cues[:, 2:], 99.5)) < 0.05  # one-sided differences: resampling blur only


@pytest.mark.parametrize("tone", [250, 5], ids=["bright", "dark"])
def test_spike_is_high_on_a_one_frame_blotch(translating_clip, tone):
    damaged = translating_clip.copy()
    damaged[4, 20:28, 30:38] = tone
    spike = temporal_cues(damaged)[:, :2]
    channel = 0 if tone > 128 else 1
    inside = spike[4, channel, 21:27, 31:37]
    assert inside.mean() > 0.15
    assert spike[4, 1 - channel, 21:27, 31:37].max() == 0.0  # signed: the other channel stays silent
    others = np.delete(spike[:, channel], 4, axis=0)
    assert inside.mean() > 10 * float(np.percentile(others, 99.5))


def test_fewer_than_three_frames_give_no_temporal_cue(translating_clip):
    cues = damage_cues(translating_clip[:2])
    assert cues.shape == (2, CUE_CHANNELS, 64, 64)
    assert not cues[:, :TEMPORAL_CUES].any()


def test_a_persistent_thin_line_stands_out_of_the_line_cue():
    clip = _static_clip()
    clip[:, :, 40] = 255  # a bright one-pixel vertical scratch on every frame
    line = thin_line_response(clip)
    on_line = line[:, 8:-8, 40].mean()
    assert on_line > 0.2
    assert on_line > 5 * np.abs(np.delete(line, [39, 40, 41], axis=2)).mean()


def test_a_colour_line_the_luma_barely_sees_stands_out_of_the_colour_line_cue():
    clip = np.full((8, 64, 64, 3), 128, dtype=np.uint8)
    clip[:, :, 40] = (20, 200, 40)  # a green scratch through the emulsion: luma 127.9, as the grey around it
    on_luma = np.abs(thin_line_response(clip)[:, 8:-8, 40]).mean()
    on_colour = colour_line_response(clip)[:, 8:-8, 40].mean()
    assert on_luma < 0.01 and on_colour > 0.3
    assert colour_line_response(clip)[:, :, :37].max() == 0.0  # a flat picture has no line anywhere else


def test_the_colour_line_cue_is_quiet_on_a_clean_picture(translating_clip):
    colour = colour_line_response(translating_clip)
    assert colour.min() >= 0.0 and float(np.percentile(colour, 99)) < 0.15


def test_a_detector_of_fewer_cues_gets_exactly_them(translating_clip):
    every = damage_cues(translating_clip)
    assert CUE_COUNTS[0] == LUMA_CUE_CHANNELS and CUE_COUNTS[-1] == CUE_CHANNELS
    for count in CUE_COUNTS:
        assert np.array_equal(damage_cues(translating_clip, channels=count), every[:, :count])
    for count in (LUMA_CUE_CHANNELS - 1, CUE_CHANNELS + 1):
        with pytest.raises(SeedVRError, match="cue maps"):
            damage_cues(translating_clip, channels=count)
