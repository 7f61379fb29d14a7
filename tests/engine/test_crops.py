"""Repair in crops around the damage: exact for local methods, lossless for all, skips clean frames."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from media_samples import make_panning_clip
from repair_spy import Spy
from typer.testing import CliRunner

from seedvr.baselines.classical import navier_stokes_repair, propagate_repair, telea_repair
from seedvr.engine.crops import DEFAULT_CROP_ALIGN, DEFAULT_CROP_MARGIN, Crop, plan_crops, repair_in_crops
from seedvr.engine.methods import RepairMethod, pipeline_method
from seedvr.engine.repair import repair_video
from seedvr.errors import SeedVRError
from seedvr.io import read_video, write_mask, write_video
from seedvr.pipeline.pipeline import SeedVRPipeline

runner = CliRunner()


# Large enough for two corners to lie more than twice the default margin apart.
SIZE = 160
AREA = SIZE * SIZE


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, np.ndarray]:
    """8 frames of a pan at 160x160; a moving hole top-left, a moving hole bottom-right, and
    frames 6-7 without damage."""
    frames, _ = make_panning_clip(frames=8, size=SIZE, step=2, hole=10)
    masks = np.zeros(frames.shape[:3], bool)
    for t in range(6):
        masks[t, 4 + t : 13 + t, 6:15] = True
        masks[t, SIZE - 20 : SIZE - 10, SIZE - 16 - t : SIZE - 6 - t] = True
    return frames, masks


@pytest.fixture(scope="module")
def tiny_pipeline() -> SeedVRPipeline:
    return SeedVRPipeline.from_preset("tiny", seed=0)


def count_denoiser_calls(pipeline: SeedVRPipeline, monkeypatch) -> list[int]:
    calls = [0]
    forward = pipeline.denoiser.forward

    def counting_forward(*args, **kwargs):
        calls[0] += 1
        return forward(*args, **kwargs)

    monkeypatch.setattr(pipeline.denoiser, "forward", counting_forward)
    return calls


@pytest.mark.parametrize("margin", [4, 8, DEFAULT_CROP_MARGIN])
def test_telea_in_crops_equals_telea_on_whole_frames(clip, margin):
    # Telea reads its radius (3 px) around a hole pixel, plus one for gradients: any margin
    # from 4 px on sees everything the whole-frame run sees.
    frames, masks = clip
    assert sum(crop.area for crop in plan_crops(masks, margin)) < 0.6 * AREA  # really cropped
    cropped = repair_in_crops(telea_repair, frames, masks, margin=margin)
    np.testing.assert_array_equal(cropped, telea_repair(frames, masks))


@pytest.mark.parametrize("method", ["telea", "ns", "propagate", "seedvr"])
def test_every_method_stays_lossless_outside_the_mask_in_crops(clip, tiny_pipeline, method):
    frames, masks = clip
    repair = {
        "telea": telea_repair,
        "ns": navier_stokes_repair,
        "propagate": propagate_repair,
        "seedvr": pipeline_method(tiny_pipeline, steps=4).repair,
    }[method]
    spy = Spy(repair)
    repaired = repair_in_crops(spy, frames, masks)
    assert len(spy.shapes) >= 1 and all(shape[1] * shape[2] < AREA for shape in spy.shapes)
    assert repaired.dtype == np.uint8 and repaired.shape == frames.shape
    np.testing.assert_array_equal(repaired[~masks], frames[~masks])
    assert not np.array_equal(repaired[masks], frames[masks])


def test_damage_in_two_far_apart_corners_is_repaired_in_two_small_crops(clip):
    frames, masks = clip
    spy = Spy()
    repaired = repair_in_crops(spy, frames, masks)
    assert len(spy.shapes) == 2
    for count, height, width, _ in spy.shapes:
        assert count == len(frames)  # every frame of the window: temporal context stays
        assert height * width <= 0.25 * AREA
    np.testing.assert_array_equal(repaired[~masks], frames[~masks])


def test_a_window_without_damage_is_returned_without_calling_the_model(clip, tiny_pipeline, monkeypatch):
    frames, _ = clip
    calls = count_denoiser_calls(tiny_pipeline, monkeypatch)
    method = pipeline_method(tiny_pipeline, steps=4)
    clean_masks = np.zeros(frames.shape[:3], bool)
    out = repair_in_crops(method.repair, frames, clean_masks)
    assert calls[0] == 0
    np.testing.assert_array_equal(out, frames)
    assert out is not frames  # a copy: the caller may write into it


def test_frames_without_damage_in_a_damaged_window_come_back_byte_identical(clip, tiny_pipeline, monkeypatch):
    frames, masks = clip  # frames 6 and 7 have no damage
    calls = count_denoiser_calls(tiny_pipeline, monkeypatch)
    out = repair_in_crops(pipeline_method(tiny_pipeline, steps=4).repair, frames, masks)
    assert calls[0] > 0  # the spy sees the model when there is damage
    np.testing.assert_array_equal(out[6:], frames[6:])


def test_a_video_without_damage_never_reaches_the_model(clip, tiny_pipeline, monkeypatch, tmp_path):
    frames, _ = clip
    video = write_video(tmp_path / "clean.mkv", frames, Fraction(25))
    mask = write_mask(tmp_path / "none.mkv", np.zeros(frames.shape[:3], bool), Fraction(25))
    calls = count_denoiser_calls(tiny_pipeline, monkeypatch)
    method = pipeline_method(tiny_pipeline, steps=4)
    # As a clean video detected clean is repaired (a given mask must mark something).
    report = repair_video(video, mask, tmp_path / "out.mkv", method=method, chunk=4, overlap=1, crop=True, allow_empty_mask=True)
    assert calls[0] == 0 and report.crop["enabled"]
    np.testing.assert_array_equal(read_video(tmp_path / "out.mkv"), frames)


@pytest.mark.parametrize("seed", range(6))
def test_crops_are_aligned_disjoint_inside_the_frame_and_hold_every_hole_with_its_margin(seed):
    rng = np.random.default_rng(seed)
    height, width, margin, align = 29, 37, 3, 8
    masks = np.zeros((4, height, width), bool)
    for _ in range(rng.integers(1, 4)):
        y, x = rng.integers(0, height), rng.integers(0, width)
        masks[rng.integers(0, 4), y : y + rng.integers(1, 4), x : x + rng.integers(1, 4)] = True
    crops = plan_crops(masks, margin=margin, align=align)
    assert crops
    covered = np.zeros((height, width), int)
    for crop in crops:
        assert 0 <= crop.top and crop.bottom <= height and 0 <= crop.left and crop.right <= width
        assert crop.height % align == 0 or crop.height == height
        assert crop.width % align == 0 or crop.width == width
        covered[crop.slices] += 1
    assert covered.max() == 1  # disjoint: each hole pixel is repaired once
    for y, x in zip(*np.nonzero(masks.any(axis=0))):
        crop = next(crop for crop in crops if crop.top <= y < crop.bottom and crop.left <= x < crop.right)
        # the margin of context, except where the frame ends
        assert y - crop.top >= min(margin, y) and crop.bottom - 1 - y >= min(margin, height - 1 - y)
        assert x - crop.left >= min(margin, x) and crop.right - 1 - x >= min(margin, width - 1 - x)


def test_odd_sized_frames_repair_in_crops_losslessly():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (5, 29, 37, 3), dtype=np.uint8)
    masks = np.zeros((5, 29, 37), bool)
    masks[:, 1:3, 2:5] = True
    masks[2, 26:29, 33:37] = True
    spy = Spy()
    out = repair_in_crops(spy, frames, masks, margin=4, align=8)
    assert len(spy.shapes) == 2
    np.testing.assert_array_equal(out[~masks], frames[~masks])
    np.testing.assert_array_equal(out, telea_repair(frames, masks))


def test_large_damage_runs_on_the_whole_frame(clip):
    frames, _ = clip
    masks = np.zeros(frames.shape[:3], bool)
    masks[:, 30:130, 30:130] = True  # with the margin, the crop would be most of the frame
    assert plan_crops(masks) == [Crop(0, 0, SIZE, SIZE)]
    spy = Spy()
    repair_in_crops(spy, frames, masks)
    assert spy.shapes == [frames.shape]


def test_default_alignment_fits_the_model_grid():
    masks = np.zeros((2, 200, 300), bool)
    masks[0, 50:53, 60:61] = True
    (crop,) = plan_crops(masks)
    assert crop.height % DEFAULT_CROP_ALIGN == 0 and crop.width % DEFAULT_CROP_ALIGN == 0
    assert crop.height >= 3 + 2 * DEFAULT_CROP_MARGIN and crop.width >= 1 + 2 * DEFAULT_CROP_MARGIN


@pytest.mark.parametrize("margin", [-1, 5000, 2.5, True])
def test_a_bad_margin_is_a_user_error(clip, margin):
    frames, masks = clip
    with pytest.raises(SeedVRError, match="crop-margin"):
        repair_in_crops(telea_repair, frames, masks, margin=margin)


def test_repair_video_crops_on_request_and_whole_frames_by_default(clip, clip_files, tmp_path):
    frames, masks = clip
    video, mask = clip_files
    cropped_spy, whole_spy = Spy(), Spy()
    report = repair_video(video, mask, tmp_path / "c.mkv", method=RepairMethod("spy", cropped_spy), chunk=8, overlap=0, crop=True)
    old = repair_video(video, mask, tmp_path / "w.mkv", method=RepairMethod("spy", whole_spy), chunk=8, overlap=0)
    assert [shape[1:3] for shape in whole_spy.shapes] == [(SIZE, SIZE)]
    assert len(cropped_spy.shapes) == 2 and all(shape[1] * shape[2] < AREA for shape in cropped_spy.shapes)
    assert report.crop["enabled"] and report.crop["crops"] == 2 and report.crop["margin"] == DEFAULT_CROP_MARGIN
    assert old.crop == {"enabled": False}
    # Telea reaches 3 px: cropped and whole-frame repairs are the same bytes on disk.
    np.testing.assert_array_equal(read_video(tmp_path / "c.mkv"), read_video(tmp_path / "w.mkv"))
    np.testing.assert_array_equal(read_video(tmp_path / "w.mkv"), telea_repair(read_video(video), masks))


def test_crops_are_planned_at_the_reduced_size_with_max_side(clip, clip_files, tmp_path):
    frames, masks = clip
    video, mask = clip_files
    spy = Spy()
    repair_video(
        video,
        mask,
        tmp_path / "s.mkv",
        method=RepairMethod("spy", spy),
        chunk=8,
        overlap=0,
        max_side=48,
        crop=True,
        crop_margin=4,
    )
    assert len(spy.shapes) == 2 and all(shape[1] <= 48 and shape[2] <= 48 for shape in spy.shapes)
    original, repaired = read_video(video), read_video(tmp_path / "s.mkv")
    np.testing.assert_array_equal(repaired[~masks], original[~masks])


def test_cli_crop_and_crop_margin(telea_cli_repair, tmp_path):
    repair = telea_cli_repair

    for name, extra in (("whole", []), ("margin", ["--crop", "--crop-margin", "8"])):
        result = repair(name, *extra)
        assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "whole.json").read_text())["crop"] == {"enabled": False}
    assert json.loads((tmp_path / "margin.json").read_text())["crop"]["margin"] == 8
    np.testing.assert_array_equal(read_video(tmp_path / "whole.mkv"), read_video(tmp_path / "margin.mkv"))
    bad = repair("bad", "--crop", "--crop-margin", "-3")
    assert bad.exit_code != 0 and "--crop-margin" in bad.output and not (tmp_path / "bad.mkv").exists()
