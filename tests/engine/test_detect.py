"""Detection of a whole video: streamed equals whole-clip, short clips warn, strict loading, bad options."""

from __future__ import annotations

import logging
from fractions import Fraction

import cv2
import numpy as np
import pytest
import torch

from seedvr.config import DetectorParams
from seedvr.engine.detect import (
    EDGE_MIRROR,
    MIN_SCALED_SIDE,
    check_detection_options,
    check_scales,
    damage_probabilities,
    detect_damage,
    detect_video,
    load_detector,
    working_sizes,
)
from seedvr.errors import SeedVRError
from seedvr.io import read_mask, write_video
from seedvr.models.detail import DetailRestorationNetwork
from seedvr.models.detector import new_detector
from seedvr.ops.damage_cues import LUMA_CUE_CHANNELS


@pytest.fixture(scope="session")
def shipped():
    return load_detector()


@pytest.fixture(scope="session")
def damaged_clip(film_clip):
    return film_clip[0]


@pytest.mark.parametrize("grow_threshold", [None, 0.05])
def test_streaming_in_chunks_equals_detecting_the_whole_clip(shipped, damaged_clip, tmp_path, grow_threshold):
    source = write_video(tmp_path / "in.mkv", damaged_clip, fps=24)
    whole = detect_damage(damaged_clip, shipped, threshold=0.3, dilate=1, grow_threshold=grow_threshold)
    assert whole.any()
    for chunk in (1, 3, 5):
        summary = detect_video(
            source, tmp_path / f"mask{chunk}.mkv", shipped, threshold=0.3, dilate=1, chunk=chunk, grow_threshold=grow_threshold
        )
        assert summary["frames"] == len(damaged_clip) and summary["temporal_cue"]
        assert np.array_equal(read_mask(tmp_path / f"mask{chunk}.mkv"), whole), chunk


def test_growing_finds_more_of_the_damage_and_keeps_what_the_threshold_found(shipped, film_clip):
    damaged, truth = film_clip
    plain = detect_damage(damaged, shipped)
    grown = detect_damage(damaged, shipped, grow_threshold=0.05)
    assert np.all(grown >= plain) and np.count_nonzero(grown & truth) > np.count_nonzero(plain & truth)
    # Every grown component holds a pixel the threshold found: growth never starts a detection.
    for frame_grown, frame_plain in zip(grown, plain, strict=True):
        count, labels = cv2.connectedComponents(frame_grown.astype(np.uint8), connectivity=8)
        assert set(np.unique(labels[frame_plain])) >= set(range(1, count))


@pytest.fixture(scope="module")
def large_damaged_clip():
    """Film damage on frames large enough (160 px) for the 0.4 scale to be used."""
    from media_samples import make_film_clip

    return make_film_clip(frames=6, size=160, seed=7)[1:]


def test_working_sizes_skip_scales_that_shrink_a_frame_too_far():
    assert working_sizes(240, 432, (1.0, 0.4)) == [(240, 432), (96, 173)]
    assert working_sizes(96, 128, (1.0, 0.4)) == [(96, 128)]  # 38 px: under MIN_SCALED_SIDE
    assert working_sizes(96, 128, (0.4,)) == [(96, 128)]  # nothing left: the native size
    assert working_sizes(MIN_SCALED_SIDE * 2, 400, (0.5, 1.0)) == [(MIN_SCALED_SIDE, 200), (MIN_SCALED_SIDE * 2, 400)]


def test_the_pyramid_flags_what_the_native_scale_flags_and_more(shipped, large_damaged_clip):
    frames, truth = large_damaged_clip
    native = damage_probabilities(frames, shipped, scales=(1.0,))
    pyramid = damage_probabilities(frames, shipped, scales=(1.0, 0.4))
    assert pyramid.shape == native.shape and pyramid.dtype == np.float32
    assert np.all(pyramid >= native) and np.any(pyramid > native)
    # On small frames the coarse scale is skipped: exactly the native result.
    small = frames[:, :64, :64]
    assert np.array_equal(damage_probabilities(small, shipped, (1.0, 0.4)), damage_probabilities(small, shipped, (1.0,)))


def test_streaming_equals_the_whole_clip_at_every_scale(shipped, large_damaged_clip, tmp_path):
    frames, _ = large_damaged_clip
    source = write_video(tmp_path / "large.mkv", frames, fps=24)
    whole = detect_damage(frames, shipped, threshold=0.3, scales=(1.0, 0.4))
    detect_video(source, tmp_path / "mask.mkv", shipped, threshold=0.3, chunk=3, scales=(1.0, 0.4))
    assert whole.any() and np.array_equal(read_mask(tmp_path / "mask.mkv"), whole)


@pytest.mark.parametrize("scales", [(), (0.0,), (1.2,), (1.0, 1.0), ("a",), None])
def test_bad_scales_are_one_line(scales):
    with pytest.raises(SeedVRError, match="--scales"):
        check_scales(scales)


def test_a_two_frame_clip_is_detected_frame_by_frame_with_a_warning(shipped, damaged_clip, caplog):
    with caplog.at_level(logging.WARNING, logger="seedvr.engine.detect"):
        masks = detect_damage(damaged_clip[:2], shipped)
    assert masks.shape == (2, *damaged_clip.shape[1:3]) and masks.dtype == bool
    assert "without the temporal cue" in caplog.text


def test_loading_is_strict(tmp_path):
    with pytest.raises(SeedVRError, match="no such model folder"):
        load_detector(tmp_path / "missing")
    DetailRestorationNetwork().save_pretrained(str(tmp_path / "other"))
    with pytest.raises(SeedVRError, match="not DamageDetector"):
        load_detector(tmp_path / "other")
    new_detector(0, channels=8).save_pretrained(str(tmp_path / "narrow"))
    (tmp_path / "narrow" / "config.json").write_text(
        (tmp_path / "narrow" / "config.json").read_text().replace('"channels": 8', '"channels": 16')
    )
    with pytest.raises(SeedVRError, match="does not match its weights"):
        load_detector(tmp_path / "narrow")


def test_a_detector_of_the_luma_cues_still_detects(tmp_path, damaged_clip):
    new_detector(0, channels=8, cue_channels=LUMA_CUE_CHANNELS).save_pretrained(str(tmp_path / "luma"))
    detector = load_detector(tmp_path / "luma")
    assert detector.config.cue_channels == LUMA_CUE_CHANNELS
    assert damage_probabilities(damaged_clip[:4], detector).shape == damaged_clip[:4].shape[:3]


@pytest.mark.parametrize(
    ("threshold", "dilate", "grow_threshold"),
    [
        *((threshold, 1, None) for threshold in (0.0, 1.0, 1.5, True)),
        (0.5, -1, None),
        *((0.5, 0, grow) for grow in (0.6, 0.0, "x")),
    ],
)
def test_bad_options_are_one_line(threshold, dilate, grow_threshold):
    with pytest.raises(SeedVRError, match="--threshold|--dilate|--grow-threshold"):
        check_detection_options(threshold, dilate, grow_threshold)


def test_the_shipped_detector_is_small_and_has_a_model_card():
    from seedvr.pipeline.shipped import SHIPPED_DETECTOR

    files = {path.name: path.stat().st_size for path in SHIPPED_DETECTOR.iterdir()}
    assert {"config.json", "diffusion_pytorch_model.safetensors", "README.md"} <= set(files)
    assert sum(files.values()) < 2_000_000
    card = (SHIPPED_DETECTOR / "README.md").read_text()
    for needed in ("precision", "recall", "IoU", "git commit", "seedvr detect-train", "scratch", "blotch", "dust", "clean"):
        assert needed in card


@pytest.mark.parametrize("seed", [0, 2])
def test_the_shipped_detector_finds_the_inside_of_a_large_flat_blotch(shipped, seed):
    # A light, flat blotch 110 px wide on one frame at 432x240: megamind-blotch's kind. A detector
    # trained only on crops smaller than such a blotch finds its rim and loses its inside.
    from seedvr.data.photos import PHOTO_NAMES
    from seedvr.data.synth import make_clip_spec, render_clip
    from seedvr.ops.damage_regions import grown_damage

    spec = make_clip_spec(np.random.default_rng(seed), "blotch", PHOTO_NAMES[0], 5, 432, 240, Fraction(24), PHOTO_NAMES)
    frames = render_clip(spec)
    blotch = np.zeros(frames.shape[1:3], np.uint8)
    cv2.ellipse(blotch, (200, 120), (55, 45), 20, 0, 360, 255, -1)
    inside = blotch > 0
    frames[2][inside] = (215, 212, 208)
    # What repair --mask auto repairs: detections grown down to its grow threshold.
    region = grown_damage(damage_probabilities(frames, shipped), 0.5, DetectorParams().auto_grow_threshold)
    # Seed 0 paints part of it over picture as light as the paint: 89 % is found (without the
    # 4 px blotch widening shipped before 2026-12-06, which covered part of that picture too).
    assert region[2][inside].mean() >= 0.85
    assert region[[0, 1, 3, 4]].mean() < 0.01


def test_frames_are_detected_mirrored_past_their_edges(shipped, damaged_clip):
    # What the net sees at the edge is the picture reflected, not its zero padding: the result is
    # the crop of detecting frames the caller mirrored, with nothing mirrored again.
    from seedvr.engine import detect

    frames = damaged_clip[:4]
    mirror = EDGE_MIRROR
    mirrored = np.pad(frames, ((0, 0), (mirror, mirror), (mirror, mirror), (0, 0)), mode="reflect")
    with torch.no_grad():
        by_hand = detect._probabilities_of(mirrored, shipped)[:, mirror:-mirror, mirror:-mirror]
        unmirrored = detect._probabilities_of(frames, shipped)
    assert np.array_equal(damage_probabilities(frames, shipped), by_hand)
    assert not np.array_equal(by_hand, unmirrored)


def test_frames_smaller_than_the_mirror_are_detected(shipped):
    frames = np.random.default_rng(0).integers(0, 255, (3, 12, 20, 3), dtype=np.uint8)
    probabilities = damage_probabilities(frames, shipped)
    assert probabilities.shape == (3, 12, 20) and np.isfinite(probabilities).all()
