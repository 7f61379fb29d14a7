"""The Great Expectations suites pass on a generated dataset and name what breaks them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seedvr.config import ValidateParams
from seedvr.data.validation import (
    normalise_fps,
    read_raw_manifest,
    render_report,
    source_of_clip,
    validate_dataset,
)
from seedvr.errors import SeedVRError

PARAMS = ValidateParams(min_frames=2, mask_ratio=(0.001, 0.5))


def _edit_manifest(dataset, edit) -> None:
    """Rewrite manifest.csv with ``edit(table)`` applied (it edits in place or returns a table)."""
    path = dataset / "manifest.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited = edit(table)
    (table if edited is None else edited).to_csv(path, index=False)


@pytest.fixture(scope="module")
def passing_report(tiny_dataset):
    return validate_dataset(tiny_dataset, PARAMS)


def test_generated_dataset_passes(passing_report):
    report = passing_report
    assert report.success, report.failures
    assert report.failures == []
    assert report.statistics["clips"] == 6
    assert report.statistics["sources"] == 3
    assert set(report.statistics["clips_per_split"]) == {"train", "val", "test"}
    suites = report.statistics["suites"]
    assert set(suites) == {"manifest", "clips"}
    assert all(counts["evaluated_expectations"] > 5 for counts in suites.values())
    # Measured from the mask files, and equal to what the manifest says within rounding.
    for clip in report.clips:
        assert clip["mask_frames"] == clip["clean_frames"] == clip["frames"] == 6
        assert abs(clip["measured_mask_ratio"] - clip["mask_ratio"]) < 1e-6


def test_frame_count_mismatch_is_named(dataset_copy):
    _edit_manifest(dataset_copy, lambda table: table.__setitem__("frames", ["6"] + ["5"] + ["6"] * (len(table) - 2)))
    clip_id = read_raw_manifest(dataset_copy)["clip_id"].iloc[1]
    report = validate_dataset(dataset_copy, PARAMS)
    assert not report.success
    expected = f"clips: {clip_id}: mask file has 6 frames but the manifest says 5"
    assert expected in report.failures
    assert f"clips: {clip_id}: clean file has 6 frames but the manifest says 5" in report.failures
    assert all(clip_id in failure for failure in report.failures)


def test_all_empty_mask_is_named(dataset_copy):
    from seedvr.io import probe, write_mask

    manifest = read_raw_manifest(dataset_copy)
    row = manifest[manifest["damage_kinds"] == "scratch"].iloc[0]
    mask_path = dataset_copy / row["mask_path"]
    info = probe(mask_path)
    write_mask(mask_path, np.zeros((info.frames, info.height, info.width), dtype=bool), info.fps)

    report = validate_dataset(dataset_copy, PARAMS)
    assert not report.success
    clip_failures = [failure for failure in report.failures if row["clip_id"] in failure]
    assert any("neither entirely empty nor entirely full" in failure for failure in clip_failures)
    assert any("6 of 6 mask frames are empty" in failure for failure in clip_failures)
    # Only the broken clip is reported.
    assert len(clip_failures) == len(report.failures)


def test_blotch_may_leave_frames_empty_but_scratch_may_not(dataset_copy):
    from seedvr.io import probe, read_mask, write_mask

    manifest = read_raw_manifest(dataset_copy)
    # blotch allows empty mask frames, scratch does not: only the scratch clip may fail.
    for kind in ("blotch", "scratch"):
        row = manifest[manifest["damage_kinds"] == kind].iloc[0]
        mask_path = dataset_copy / row["mask_path"]
        mask = read_mask(mask_path)
        assert mask[1:].any(), f"{kind} mask must keep damage after frame 0 for this test"
        mask[0] = False  # one empty frame, the clip as a whole still damaged
        write_mask(mask_path, mask, probe(mask_path).fps)
    report = validate_dataset(dataset_copy, ValidateParams(min_frames=2, mask_ratio=(0.001, 0.5), mask_ratio_tolerance=0.5))
    empty_failures = [failure for failure in report.failures if "mask frames are empty" in failure]
    assert len(empty_failures) == 1
    assert manifest[manifest["damage_kinds"] == "scratch"]["clip_id"].iloc[0] in empty_failures[0]


def test_overlapping_splits_are_named(dataset_copy):
    manifest = read_raw_manifest(dataset_copy)
    first = manifest["clip_id"].iloc[0]
    source = source_of_clip(first)
    current = manifest["split"].iloc[0]
    other = next(split for split in ("train", "val", "test") if split != current)

    def move_one_variant(table):
        table.loc[table["clip_id"] == first, "split"] = other

    _edit_manifest(dataset_copy, move_one_variant)
    report = validate_dataset(dataset_copy, PARAMS)
    assert not report.success
    split_failures = [failure for failure in report.failures if "appears in 2 splits" in failure]
    # Every variant of the source is reported, each naming the source and both splits.
    assert len(split_failures) == (manifest["clip_id"].map(source_of_clip) == source).sum() == 2
    assert all(f"source clip {source} " in failure and other in failure and current in failure for failure in split_failures)


def test_missing_files_and_columns_are_failures_not_crashes(dataset_copy):
    manifest = read_raw_manifest(dataset_copy)
    (dataset_copy / manifest["damaged_path"].iloc[0]).unlink()
    report = validate_dataset(dataset_copy, PARAMS)
    clip_id = manifest["clip_id"].iloc[0]
    assert f"manifest: {clip_id}: damaged file {manifest['damaged_path'].iloc[0]} does not exist" in report.failures
    assert any(failure.startswith(f"clips: {clip_id}: cannot read its files") for failure in report.failures)

    _edit_manifest(dataset_copy, lambda table: table.drop(columns=["mask_ratio"]))
    report = validate_dataset(dataset_copy, PARAMS)
    assert "manifest: manifest.csv lacks column(s) mask_ratio" in report.failures
    assert any("clips: not measured" in failure for failure in report.failures)


def test_bad_values_in_manifest_are_reported_per_row(dataset_copy):
    def corrupt(table):
        table.loc[0, "split"] = "holdout"
        table.loc[1, "frames"] = "many"
        table.loc[2, "clip_id"] = table.loc[3, "clip_id"]

    _edit_manifest(dataset_copy, corrupt)
    report = validate_dataset(dataset_copy, PARAMS)
    text = "\n".join(report.failures)
    assert "split is 'holdout'; expected one of train, val, test" in text
    assert "frames is empty or not a valid value" in text
    assert "clip_id appears more than once" in text


def test_user_errors_raise_before_validation(tmp_path):
    with pytest.raises(SeedVRError, match="not found"):
        validate_dataset(tmp_path / "absent", PARAMS)
    with pytest.raises(SeedVRError, match="no manifest.csv"):
        validate_dataset(tmp_path, PARAMS)


def test_report_round_trips_as_json_and_text(passing_report, tmp_path):
    report = passing_report
    path = report.write_json(tmp_path / "out" / "validation.json")
    loaded = json.loads(path.read_text())
    assert loaded["success"] is True and loaded["kind"] == "damaged dataset"
    assert len(loaded["clips"]) == 6
    text = render_report(report)
    assert "PASSED" in text and "manifest" in text and "clips" in text


def test_source_of_clip_and_fps_helpers():
    assert source_of_clip("clip_0003_scratch") == "clip_0003"
    assert source_of_clip("clip_0003_scratch_dust") == "clip_0003"
    assert source_of_clip("clip_0003") == "clip_0003"
    assert source_of_clip("clip_0003_blotch", explicit="scene_7") == "scene_7"
    assert normalise_fps("24") == "24/1"
    assert normalise_fps("30000/1001") == "30000/1001"
    assert normalise_fps("fast") is None and normalise_fps("0") is None
