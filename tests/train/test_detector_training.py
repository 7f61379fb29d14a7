"""Detector training on the project's own synthetic film damage: labels, determinism, loss going down."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seedvr.config import DetectorParams
from seedvr.data.footage import free_windows
from seedvr.data.photos import PHOTO_NAMES
from seedvr.errors import SeedVRError
from seedvr.models.detector import new_detector
from seedvr.ops.damage_cues import CUE_CHANNELS, LUMA_CUE_CHANNELS, damage_cues
from seedvr.train.detector import (
    CLEAN,
    CLIP_KINDS,
    FILM_KINDS,
    ClipRecipe,
    clip_kinds,
    detection_loss,
    footage_clips,
    labelled_clips,
    manifest_clips,
    sample_batch,
    train_detector,
)

TINY = DetectorParams(
    clips=5, frames=4, width=48, height=32, small_share=0.0, channels=16, crop_size=32, batch_size=4, steps=60, lr=3e-3
)


@pytest.fixture(scope="session")
def tiny_clips():
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    return labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY))


def test_every_film_kind_and_clean_clips_are_drawn():
    kinds = clip_kinds(10, 0.2)
    assert kinds.count(CLEAN) == 2 and set(kinds) == {*CLIP_KINDS, CLEAN}


def test_the_masks_are_the_labels(tiny_clips):
    for clip in tiny_clips:
        assert clip.frames.shape == (4, 32, 48, 3) and clip.cues(CUE_CHANNELS).shape[:2] == (4, CUE_CHANNELS)
        assert clip.mask.any() == (clip.kind != CLEAN)
    frames, cues, labels = sample_batch(tiny_clips, np.random.default_rng(0), 3, 16)
    assert frames.shape == (3, 3, 3, 16, 16) and cues.shape == (3, CUE_CHANNELS, 16, 16) and labels.shape == (3, 16, 16)
    assert set(labels.unique().tolist()) <= {0.0, 1.0}


def test_a_clip_computes_the_cues_a_detector_reads_and_no_more():
    clip = labelled_clips([CLIP_KINDS[0]], PHOTO_NAMES, ClipRecipe.of(TINY))[0]
    four = clip.cues(LUMA_CUE_CHANNELS)
    assert four.shape[1] == LUMA_CUE_CHANNELS
    assert np.array_equal(clip.cues(CUE_CHANNELS), damage_cues(clip.frames))  # more asked for: computed again
    assert np.array_equal(clip.cues(LUMA_CUE_CHANNELS), four)


def test_a_share_of_the_clips_is_rendered_small_and_batches_still_stack():
    mixed = TINY.model_copy(update={"small_size": (32, 16), "small_share": 0.5})
    clips = labelled_clips(clip_kinds(4, 0.0), PHOTO_NAMES, ClipRecipe.of(mixed))
    assert [clip.frames.shape[1:3] for clip in clips] == [(32, 48), (16, 32), (32, 48), (16, 32)]
    rng = np.random.default_rng(0)
    sides = set()
    for _ in range(12):
        frames, cues, labels = sample_batch(clips, rng, 4, 24)
        assert frames.shape[-2:] == cues.shape[-2:] == labels.shape[-2:]
        sides.add(tuple(labels.shape[-2:]))
    # Batches led by a small clip crop to its height; the others keep the asked crop.
    assert sides == {(16, 24), (24, 24)}


def test_destroyed_clips_keep_the_mask_and_lose_the_picture_under_it(tiny_clips):
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    destroyed = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"destroyed_share": 1.0})))
    first_painted, first_destroyed = tiny_clips[0], destroyed[0]
    # The same draw of damage, over a hole instead of over the picture; the outside untouched.
    assert np.array_equal(first_destroyed.mask, first_painted.mask)
    outside = ~first_painted.mask
    assert np.array_equal(first_destroyed.frames[outside], first_painted.frames[outside])
    inside = first_painted.mask
    assert not np.array_equal(first_destroyed.frames[inside], first_painted.frames[inside])
    assert all(clip.kind == CLEAN and not clip.mask.any() for clip in destroyed if clip.kind == CLEAN)


def test_training_lowers_the_loss_and_is_seed_deterministic(tiny_clips):
    # Measured on one fixed batch: the loss of single random batches is too noisy to compare.
    frames, cues, labels = sample_batch(tiny_clips, np.random.default_rng(123), 16, 32, TINY.cue_channels)
    with torch.no_grad():
        before = float(detection_loss(new_detector(TINY.seed, cue_channels=TINY.cue_channels)(frames, cues), labels))
    first = train_detector(tiny_clips, TINY)
    assert first.steps == TINY.steps
    with torch.no_grad():
        after = float(detection_loss(first.detector(frames, cues), labels))
    assert after < 0.8 * before
    assert train_detector(tiny_clips, TINY).losses == first.losses


def test_a_damaged_dataset_gives_its_film_damage_clips_only(tiny_dataset_dir):
    clips = manifest_clips(tiny_dataset_dir)
    assert clips and {clip.kind for clip in clips} <= set(FILM_KINDS)
    for clip in clips:
        assert clip.mask.any() and clip.cues(CUE_CHANNELS).shape[:2] == (len(clip.frames), CUE_CHANNELS)


def test_free_windows_leave_the_taken_ranges_alone():
    assert free_windows(100, [(10, 30), (25, 40), (70, 80)], 20) == [(40, 70), (80, 100)]
    assert free_windows(100, [(10, 30)], 11) == [(30, 100)]  # 10 frames before it: too few
    assert free_windows(30, [(0, 30)], 1) == []


def test_real_video_clips_come_only_from_frames_the_benchmark_leaves(tmp_path):
    from fractions import Fraction

    from seedvr.io import write_video

    # Each frame carries its index in its grey level, so a clip says where it was read.
    frames = np.repeat(np.arange(40, dtype=np.uint8)[:, None, None, None] * 6, 48, axis=1)
    frames = np.ascontiguousarray(np.broadcast_to(frames[:, :, :1], (40, 48, 64, 3)))
    video = write_video(tmp_path / "real.mkv", frames, Fraction(10))
    taken = {"real": [(0, 12), (20, 32)]}
    kinds = [CLEAN, CLEAN, CLEAN, "scratch"]
    recipe = ClipRecipe(frames=4, width=32, height=24, mask_ratio=TINY.mask_ratio, seed=3)
    clips = footage_clips(kinds, {"real": video}, taken, recipe)
    assert [clip.kind for clip in clips] == kinds
    for clip in clips[:3]:
        assert clip.frames.shape == (4, 24, 32, 3) and not clip.mask.any()
        first = int(round(float(clip.frames[0].mean()) / 6))
        assert 12 <= first <= 16 or 32 <= first <= 36  # inside [12, 20) or [32, 40), 4 frames
    assert clips[3].mask.any()
    again = footage_clips(kinds, {"real": video}, taken, recipe)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(clips, again, strict=True))
    with pytest.raises(SeedVRError, match="outside the benchmark"):
        footage_clips(kinds, {"real": video}, {"real": [(0, 40)]}, recipe)


def test_swaying_clips_change_the_picture_and_leave_the_other_clips_as_they_were(tiny_clips):
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    swaying = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"sway_share": 1.0})))
    unchanged = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"sway_share": 0.0})))
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(unchanged, tiny_clips, strict=True))
    # With every clip swaying, the first clip is no longer the still one.
    assert not np.array_equal(swaying[0].frames, tiny_clips[0].frames)


def test_faint_clips_keep_their_labels_and_leave_the_other_clips_as_they_were(tiny_clips):
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    faint = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"faint_share": 1.0})))
    unchanged = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"faint_share": 0.0})))
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(unchanged, tiny_clips, strict=True))
    for clip in faint:
        assert clip.mask.any() == (clip.kind != CLEAN)
    assert not np.array_equal(faint[0].frames, tiny_clips[0].frames)


def test_repainted_clips_keep_their_labels_and_leave_the_other_clips_as_they_were(tiny_clips):
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    repainted = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"repainted_share": 1.0})))
    unchanged = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"repainted_share": 0.0})))
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(unchanged, tiny_clips, strict=True))
    # The first clip's masks are drawn before anything is painted: the same damage, another look.
    assert np.array_equal(repainted[0].mask, tiny_clips[0].mask) and tiny_clips[0].mask.any()
    assert not np.array_equal(repainted[0].frames, tiny_clips[0].frames)


def test_only_visible_damage_is_labelled_when_asked(tiny_clips):
    kinds = clip_kinds(TINY.clips, TINY.clean_share)
    visible = labelled_clips(kinds, PHOTO_NAMES, ClipRecipe.of(TINY.model_copy(update={"visible_level": 40})))
    for every, seen in zip(tiny_clips, visible, strict=True):
        # The same damage drawn and painted; its labels only lose the pixels that barely show.
        assert np.array_equal(seen.frames, every.frames)
        assert not (seen.mask & ~every.mask).any()
    assert sum(int(seen.mask.sum()) for seen in visible) < sum(int(every.mask.sum()) for every in tiny_clips)


def test_a_leg_that_adds_the_colour_line_widens_the_detector_it_continues(tiny_clips):
    luma = train_detector(tiny_clips, TINY.model_copy(update={"steps": 2})).detector
    assert luma.config.cue_channels == LUMA_CUE_CHANNELS
    leg = train_detector(tiny_clips, TINY.model_copy(update={"steps": 2, "cue_channels": CUE_CHANNELS}), init=luma)
    assert leg.detector.config.cue_channels == CUE_CHANNELS
    # Continued with fewer named, a detector keeps the cues it reads.
    again = train_detector(tiny_clips, TINY.model_copy(update={"steps": 2}), init=leg.detector)
    assert again.detector.config.cue_channels == CUE_CHANNELS
