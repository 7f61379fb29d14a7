"""``evaluate_dataset`` outputs: metrics.json, tables that agree with it, images, report."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pandas as pd
from evaluate_helpers import ALL_METHODS, EVALUATED_CLIPS, STEPS, STRIPS

from seedvr.data import read_manifest
from seedvr.evaluate.metrics_file import EvaluationMetrics, MethodFigures, SamplerSettings
from seedvr.metrics import METRIC_KEYS


def test_metrics_json_has_every_figure_for_every_method(full_evaluation, tiny_dataset_dir):
    path = full_evaluation.out_dir / "metrics.json"
    metrics = EvaluationMetrics.from_file(path)
    assert metrics == full_evaluation.metrics and path.read_text() == metrics.to_json()
    test_clips = read_manifest(tiny_dataset_dir).query("split == 'test'").head(EVALUATED_CLIPS)
    assert metrics.split == "test"
    assert metrics.clips == EVALUATED_CLIPS
    assert metrics.frames == int(test_clips["frames"].sum())
    assert list(metrics.methods) == list(ALL_METHODS)
    kinds = {kind for kinds in test_clips["damage_kinds"] for kind in kinds.split("|")}
    for name, figures in metrics.methods.items():
        assert figures.lpips is None  # no local VGG16 weights in tests: "not computed"
        assert figures.vif is None  # 32 px frames are under VIF's 41 px minimum
        for key in ("psnr_mask", "ssim_mask", "psnr", "ewarp", "ewarp_mask", "tof", "flicker"):
            value = figures.figures()[key]
            assert isinstance(value, float) and np.isfinite(value), (name, key)
        assert set(figures.per_kind) == kinds
        for kind, kind_figures in figures.per_kind.items():
            assert all(isinstance(value, float) for value in kind_figures.figures().values()), (name, kind)
            assert kind_figures.clips == sum(kind in k.split("|") for k in test_clips["damage_kinds"]), (name, kind)


def test_the_figures_of_metrics_json_are_the_metrics_and_lpips():
    assert tuple(MethodFigures.model_fields) == (*METRIC_KEYS, "lpips", "per_kind")


def test_gains_compare_seedvr_with_the_best_classical_method(full_evaluation):
    metrics = full_evaluation.metrics
    gains = metrics.gains
    classical = {name: metrics.methods[name].psnr_mask for name in ALL_METHODS if name != "seedvr"}
    assert gains.baseline == max(classical, key=classical.get)
    seedvr, baseline = metrics.methods["seedvr"], metrics.methods[gains.baseline]
    assert np.isclose(gains.psnr_mask_db, seedvr.psnr_mask - baseline.psnr_mask)
    assert np.isclose(gains.ssim_mask, seedvr.ssim_mask - baseline.ssim_mask)
    assert np.isclose(gains.ewarp, baseline.ewarp - seedvr.ewarp)  # positive = seedvr better
    assert np.isclose(gains.ewarp_mask, baseline.ewarp_mask - seedvr.ewarp_mask)
    assert set(gains.per_kind) == set(seedvr.per_kind)


def test_sampler_records_the_steps_run_and_the_models_own(full_evaluation, tiny_pipeline_dir):
    from seedvr.evaluate.runner import model_sampling_steps

    shipped = model_sampling_steps(tiny_pipeline_dir)
    assert full_evaluation.metrics.sampler == SamplerSettings(steps=STEPS, model_steps=shipped, seed=0)
    report = (full_evaluation.out_dir / "report.md").read_text()
    # This test evaluation overrides the steps: the report says it is not what ships.
    assert f"seedvr ran {STEPS} sampling steps, not the model's own {shipped}" in report


def test_aggregates_are_frame_weighted_means_of_per_clip_csv(full_evaluation):
    table = pd.read_csv(full_evaluation.out_dir / "per_clip.csv")
    assert len(table) == EVALUATED_CLIPS * len(ALL_METHODS)
    assert {"clip_id", "method", "damage_kinds", *METRIC_KEYS} <= set(table.columns)
    assert "sec_per_frame" not in table.columns  # a timing: in timings.json, not in a DVC output
    for name, rows in table.groupby("method"):
        expected = np.average(rows["psnr_mask"], weights=rows["frames"])
        figures = full_evaluation.metrics.methods[name]
        assert np.isclose(figures.psnr_mask, expected)
        expected_ewarp = np.average(rows["ewarp"], weights=rows["frames"])
        assert np.isclose(figures.ewarp, expected_ewarp)
        expected_ewarp_mask = np.average(rows["ewarp_mask"], weights=rows["frames"])
        assert np.isclose(figures.ewarp_mask, expected_ewarp_mask)
        first_kind_rows = rows[rows["damage_kinds"].str.split("|").map(lambda kinds: "scratch" in kinds)]
        if len(first_kind_rows):
            scratch = figures.per_kind["scratch"].psnr_mask
            assert np.isclose(scratch, np.average(first_kind_rows["psnr_mask"], weights=first_kind_rows["frames"]))


def test_timings_json_holds_the_repair_times_per_method_and_clip(full_evaluation):
    timings = json.loads((full_evaluation.out_dir / "timings.json").read_text())
    assert timings == full_evaluation.timings
    assert list(timings["methods"]) == list(ALL_METHODS)
    clips = pd.DataFrame(timings["clips"])
    assert len(clips) == EVALUATED_CLIPS * len(ALL_METHODS)
    assert (clips["seconds"] > 0).all() and np.allclose(clips["sec_per_frame"], clips["seconds"] / clips["frames"])
    for name, rows in clips.groupby("method"):
        figures = timings["methods"][name]
        assert isinstance(figures["sec_per_frame"], float) and np.isfinite(figures["sec_per_frame"]), name
        # Total seconds over total frames: the frame-weighted mean of the clips' figures.
        assert np.isclose(figures["sec_per_frame"], np.average(rows["sec_per_frame"], weights=rows["frames"])), name
    # No timing anywhere in the files the evaluate stage declares to DVC.
    for name in ("metrics.json", "per_clip.csv", "report.md"):
        assert (
            "sec_per_frame" not in (full_evaluation.out_dir / name).read_text()
            and "s/frame" not in (full_evaluation.out_dir / name).read_text()
        )


def test_untrained_seedvr_reproduces_propagation_exactly(full_evaluation):
    """Zero-initialised residual branches: an untrained pipeline returns its propagation guess."""
    table = full_evaluation.per_clip.set_index(["method", "clip_id"])
    seedvr, propagate = table.loc["seedvr"], table.loc["propagate"]
    assert (seedvr["psnr_mask"] == propagate["psnr_mask"]).all()
    assert (seedvr["ewarp"] == propagate["ewarp"]).all()
    assert (seedvr["ewarp_mask"] == propagate["ewarp_mask"]).all()
    assert full_evaluation.metrics.gains.psnr_mask_db == 0.0


def test_per_clip_ewarp_mask_is_the_mean_of_the_per_frame_series(full_evaluation):
    """One definition: the clip's in-mask E_warp averages the pairs the per-frame plot draws."""
    per_frame = pd.read_csv(full_evaluation.out_dir / "per_frame.csv")
    table = full_evaluation.per_clip.set_index(["method", "clip_id"])
    for (method, clip_id), rows in per_frame.groupby(["method", "clip_id"]):
        assert np.isclose(table.loc[(method, clip_id), "ewarp_mask"], np.nanmean(rows["ewarp_frame"])), (method, clip_id)
        if method in ("telea", "ns"):
            # Per-frame inpainting flickers in the mask, where nothing dilutes it as the
            # untouched rest of the frame does on the whole-frame figure.
            assert table.loc[(method, clip_id), "ewarp_mask"] > table.loc[(method, clip_id), "ewarp"], (method, clip_id)


def test_per_frame_csv_numbers_frames_globally_for_every_method(full_evaluation):
    per_frame = pd.read_csv(full_evaluation.out_dir / "per_frame.csv")
    assert list(per_frame.columns) == ["frame", "clip_id", "method", "psnr_mask", "ewarp_frame"]
    total = full_evaluation.metrics.frames
    for name in ALL_METHODS:
        rows = per_frame[per_frame["method"] == name]
        assert rows["frame"].tolist() == list(range(total))
        split_copy = pd.read_csv(full_evaluation.out_dir / "per_frame" / f"{name}.csv")
        pd.testing.assert_frame_equal(split_copy, rows.reset_index(drop=True))
        last_frames = rows.groupby("clip_id")["frame"].max()
        # E_warp between t and t+1 does not exist for a clip's last frame.
        assert rows.set_index("frame").loc[last_frames, "ewarp_frame"].isna().all()
        assert rows["psnr_mask"].notna().any() and rows["ewarp_frame"].notna().any()


def _read_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image


def test_plots_are_valid_non_blank_pngs(full_evaluation):
    for name in ("psnr_per_frame", "ewarp_per_frame", "psnr_by_kind"):
        image = _read_png(full_evaluation.out_dir / "plots" / f"{name}.png")
        height, width = image.shape[:2]
        assert 300 <= height <= 2000 and 500 <= width <= 3000, (name, image.shape)
        assert image.std() > 10, name  # axes, lines and text, not an empty canvas


def test_strips_show_every_column_for_the_first_clips(full_evaluation):
    strips = sorted((full_evaluation.out_dir / "strips").glob("*.png"))
    expected_ids = full_evaluation.per_clip["clip_id"].drop_duplicates().head(STRIPS)
    assert [path.stem for path in strips] == sorted(expected_ids)
    for path in strips:
        image = _read_png(path)
        height, width = image.shape[:2]
        columns = 2 + len(ALL_METHODS) + 1  # damaged | mask | methods | truth
        # Cells are at least the frame size, so the strip is wider than the columns of frames.
        assert width >= columns * 48 and height >= 3 * 32, image.shape
        assert image.std() > 10
        header = image[:28]
        assert (header > 200).any(), "column labels are drawn in the header band"


def test_report_links_point_at_written_images(full_evaluation):
    report = (full_evaluation.out_dir / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) == 3 + STRIPS
    for link in links:
        assert (full_evaluation.out_dir / link).is_file(), link
    for name in ALL_METHODS:
        assert f"| {name} |" in report
    assert f"Baseline: **{full_evaluation.metrics.gains.baseline}**" in report
