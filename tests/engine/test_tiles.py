"""Repair in tiles when a window is too large: bounded areas, a partition of the frame, lossless."""

from __future__ import annotations

import json

import numpy as np
import pytest
from media_samples import make_panning_clip
from repair_spy import Spy
from typer.testing import CliRunner

from seedvr.baselines.classical import propagate_repair, telea_repair
from seedvr.config import REPAIR_DEFAULTS
from seedvr.engine.crops import DEFAULT_CROP_ALIGN
from seedvr.engine.methods import RepairMethod
from seedvr.engine.repair import repair_video
from seedvr.engine.tiles import DEFAULT_TILE_OVERLAP, plan_tiles, repair_in_tiles
from seedvr.errors import SeedVRError
from seedvr.io import read_video

runner = CliRunner()

HEIGHT, WIDTH = 128, 192
# 96x96 tiles at most, overlapping by 16: a 128x192 frame needs several of them.
TILE_PIXELS, OVERLAP = 96 * 96, 16


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, np.ndarray]:
    """6 frames of a pan at 128x192, damage only in the upper half: a small moving hole
    top-left, a blob across the middle column border of the tiles, a scratch near the right edge."""
    frames, _ = make_panning_clip(frames=6, size=WIDTH, step=2, hole=10)
    frames = np.ascontiguousarray(frames[:, :HEIGHT])
    masks = np.zeros(frames.shape[:3], bool)
    for t in range(6):
        masks[t, 6 + t : 14 + t, 8:16] = True
        masks[t, 24:44, 84 + t : 108 + t] = True
        masks[t, :56, WIDTH - 20 + t % 2 : WIDTH - 17 + t % 2] = True
    return frames, masks


@pytest.mark.parametrize("size", [(64, 64), (240, 432), (480, 854), (1080, 1920), (2160, 3840), (97, 531)])
def test_tiles_fit_the_budget_overlap_and_their_cores_partition_the_frame(size):
    height, width = size
    tile_pixels = REPAIR_DEFAULTS.tile_pixels
    plan = plan_tiles(height, width, tile_pixels, DEFAULT_TILE_OVERLAP)
    owner = np.zeros((height, width), np.int32)
    for tile, core in plan:
        assert tile.area <= tile_pixels or len(plan) == 1
        assert 0 <= tile.top and tile.bottom <= height and 0 <= tile.left and tile.right <= width
        assert tile.height % DEFAULT_CROP_ALIGN == 0 or tile.height == height
        assert tile.width % DEFAULT_CROP_ALIGN == 0 or tile.width == width
        # The core lies inside its tile with half an overlap of context wherever the tile has a neighbour.
        half = DEFAULT_TILE_OVERLAP // 2
        assert core.top >= tile.top + (half if tile.top > 0 else 0)
        assert core.left >= tile.left + (half if tile.left > 0 else 0)
        assert core.bottom <= tile.bottom - (half if tile.bottom < height else 0)
        assert core.right <= tile.right - (half if tile.right < width else 0)
        owner[core.slices] += 1
    assert (owner == 1).all()
    if height * width <= tile_pixels:
        assert len(plan) == 1 and plan[0][0] == plan[0][1]


def test_a_window_that_fits_is_handed_to_the_method_as_it_is(clip):
    frames, masks = clip
    spy = Spy()
    out = repair_in_tiles(spy, frames, masks, tile_pixels=HEIGHT * WIDTH, overlap=OVERLAP)
    assert spy.shapes == [frames.shape]
    np.testing.assert_array_equal(out, telea_repair(frames, masks))


def test_large_windows_are_repaired_tile_by_tile_within_the_budget(clip):
    frames, masks = clip
    spy = Spy()
    out = repair_in_tiles(spy, frames, masks, tile_pixels=TILE_PIXELS, overlap=OVERLAP)
    plan = plan_tiles(HEIGHT, WIDTH, TILE_PIXELS, OVERLAP)
    assert len(plan) > 2 and all(shape[1] * shape[2] <= TILE_PIXELS for shape in spy.shapes)
    # A tile whose core holds no hole pixel is never repaired.
    damaged_cores = [core for _, core in plan if masks[:, core.slices[0], core.slices[1]].any()]
    assert len(spy.shapes) == len(damaged_cores) < len(plan)
    np.testing.assert_array_equal(out[~masks], frames[~masks])
    assert (out[masks] != frames[masks]).any()


def test_holes_inside_one_core_are_repaired_as_on_the_whole_frame(clip):
    # Telea reads 3-4 px around a hole: a hole held by one core with 8 px of context in its
    # tile gets exactly the whole-frame result.
    frames, _ = clip
    masks = np.zeros(frames.shape[:3], bool)
    masks[:, 20:28, 20:30] = True
    masks[:, 100:110, 150:170] = True
    plan = plan_tiles(HEIGHT, WIDTH, TILE_PIXELS, OVERLAP)
    assert len(plan) > 1
    np.testing.assert_array_equal(repair_in_tiles(telea_repair, frames, masks, TILE_PIXELS, OVERLAP), telea_repair(frames, masks))


def test_propagation_in_tiles_stays_lossless_and_fills_the_holes(clip):
    frames, masks = clip
    out = repair_in_tiles(propagate_repair, frames, masks, TILE_PIXELS, OVERLAP)
    np.testing.assert_array_equal(out[~masks], frames[~masks])
    error = np.abs(out.astype(int) - frames.astype(int))[masks].mean()
    untouched = np.abs(np.zeros_like(frames[masks], dtype=int) - frames[masks].astype(int)).mean()
    assert error < 0.5 * untouched


@pytest.mark.parametrize(("tile_pixels", "overlap"), [(100, 16), (0, 16), (96 * 96, -1), (2.5, 16), (True, 16)])
def test_bad_tile_options_are_user_errors(clip, tile_pixels, overlap):
    frames, masks = clip
    with pytest.raises(SeedVRError, match="tile"):
        repair_in_tiles(telea_repair, frames, masks, tile_pixels, overlap)


def test_repair_video_tiles_large_frames_and_reports_the_budget(clip, clip_files, tmp_path):
    frames, masks = clip
    video, mask = clip_files
    spy = Spy()
    # The default overlap is two crop margins: margin 8 gives the 16-px overlap of the plan above.
    report = repair_video(
        video,
        mask,
        tmp_path / "t.mkv",
        method=RepairMethod("spy", spy),
        chunk=6,
        overlap=0,
        tile_pixels=TILE_PIXELS,
        crop_margin=8,
    )
    assert report.tile_pixels == TILE_PIXELS and len(spy.shapes) > 1
    assert all(shape[1] * shape[2] <= TILE_PIXELS for shape in spy.shapes)
    repaired = read_video(tmp_path / "t.mkv")
    np.testing.assert_array_equal(repaired[~masks], frames[~masks])


def test_cli_tile_pixels_and_a_bad_budget(telea_cli_repair, tmp_path):
    repair = telea_cli_repair

    result = repair("tiled", "--tile-pixels", str(TILE_PIXELS), "--crop-margin", "8")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "tiled.json").read_text())["tile_pixels"] == TILE_PIXELS
    bad = repair("bad", "--tile-pixels", "99")
    assert bad.exit_code == 2 and "--tile-pixels" in bad.output and not (tmp_path / "bad.mkv").exists()
    assert len(bad.output.strip().splitlines()) == 1
