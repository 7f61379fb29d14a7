"""``seedvr detect`` and ``seedvr repair --mask auto`` on files, with the shipped detector.

The IoU floor is what the shipped detector measures on this clip (IoU 0.89 at the default
threshold and dilation; precision 0.98, recall 0.95 with 1 px tolerance), less a margin. On
the clean clip it flags 11 of 32768 pixels (0.03 %).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from media_samples import smooth_video
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.io import read_mask, read_video, write_mask, write_video
from seedvr.metrics.detection import detection_scores

runner = CliRunner()

IOU_FLOOR = 0.8


def _invoke(*args) -> object:
    return runner.invoke(app, [*map(str, args)])


@pytest.fixture(scope="module")
def damaged_file(film_clip, tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("detect") / "film.mkv", film_clip[0], fps=24)


@pytest.fixture(scope="module")
def clean_file(clean_film_clip, tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("clean") / "clean.mkv", clean_film_clip, fps=24)


def test_detect_finds_the_film_damage(damaged_file, film_clip, tmp_path):
    result = _invoke("detect", damaged_file, "-o", tmp_path / "mask.mkv")
    assert result.exit_code == 0, result.output
    scores = detection_scores(read_mask(tmp_path / "mask.mkv"), film_clip[1])
    assert scores.iou > IOU_FLOOR, scores


def test_repair_with_an_auto_mask_is_lossless_outside_what_was_found(damaged_file, film_clip, tmp_path):
    output = tmp_path / "repaired.mkv"
    result = _invoke("repair", damaged_file, "--mask", "auto", "-o", output, "--method", "telea")
    assert result.exit_code == 0, result.output
    found = read_mask(tmp_path / "repaired.mask.mkv")
    assert "repaired.mask.mkv" in result.stdout and found.any()
    repaired = read_video(output)
    assert np.array_equal(repaired[~found], film_clip[0][~found])
    assert not np.array_equal(repaired[found], film_clip[0][found])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["repaired.mask.mkv", "repaired.mkv"]


def test_auto_repairs_the_detections_grown_as_detect_grows_them(damaged_file, film_clip, tmp_path):
    from seedvr.engine.detect import AUTO_GROW_THRESHOLD

    unconfirmed = ("--method", "telea", "--no-confirm", "--looks", "1")
    assert _invoke("repair", damaged_file, "--mask", "auto", "-o", tmp_path / "r.mkv", *unconfirmed).exit_code == 0
    assert _invoke("detect", damaged_file, "-o", tmp_path / "plain.mkv").exit_code == 0
    grown_args = ("--grow-threshold", AUTO_GROW_THRESHOLD)
    assert _invoke("detect", damaged_file, "-o", tmp_path / "grown.mkv", *grown_args).exit_code == 0
    repaired_in, plain, grown = (read_mask(tmp_path / name) for name in ("r.mask.mkv", "plain.mkv", "grown.mkv"))
    assert np.array_equal(repaired_in, grown)
    truth = film_clip[1]
    assert np.all(grown >= plain) and detection_scores(grown, truth).recall > detection_scores(plain, truth).recall


def test_auto_repairs_only_the_detections_a_propagated_repair_changes(damaged_file, film_clip, tmp_path):
    from seedvr.engine.auto_mask import CONFIRM_TOLERANCE
    from seedvr.engine.detect import AUTO_GROW_THRESHOLD
    from seedvr.ops.damage_regions import confirmed_region, confirming_region, detection_rims

    result = _invoke("repair", damaged_file, "--mask", "auto", "-o", tmp_path / "r.mkv", "--method", "telea", "--looks", "1")
    assert result.exit_code == 0, result.output
    assert "changed by a propagated repair" in result.stdout
    grown_args = ("--grow-threshold", AUTO_GROW_THRESHOLD)
    assert _invoke("detect", damaged_file, "-o", tmp_path / "grown.mkv", *grown_args).exit_code == 0
    # The confirming repair, run by hand with the same streaming inside the detections, the
    # rims around them and the lines of the frames beside: its changes decide.
    grown = read_mask(tmp_path / "grown.mkv")
    rims = detection_rims(grown)
    assert rims.any()
    region = confirming_region(grown)
    write_mask(tmp_path / "region.mkv", region, fps=24)
    confirming = ("--method", "propagate", "--mask", tmp_path / "region.mkv", "-o", tmp_path / "p.mkv")
    assert _invoke("repair", damaged_file, *confirming).exit_code == 0
    repaired_in, frames = read_mask(tmp_path / "r.mask.mkv"), read_video(damaged_file)
    expected = confirmed_region(grown, rims, frames, read_video(tmp_path / "p.mkv"), CONFIRM_TOLERANCE)
    assert np.array_equal(repaired_in, expected)
    assert np.all(repaired_in <= (grown | rims)) and repaired_in.sum() < grown.sum()
    assert (region & ~(grown | rims)).any()  # the clip's scratches do reach the frames beside
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grown.mkv", "p.mkv", "r.mask.mkv", "r.mkv", "region.mkv"]


def test_a_second_look_adds_what_detection_finds_on_the_first_looks_repair(damaged_file, tmp_path):
    from seedvr.engine.repair import repair_video
    from seedvr.ops.blending import DETECTED_MASK_BLEND

    once = ("--mask", "auto", "--method", "telea", "--looks", "1")
    assert _invoke("repair", damaged_file, *once, "-o", tmp_path / "one.mkv").exit_code == 0
    # The second look by hand: the input repaired inside the first look's region as blind mode
    # repairs it, then looked at once more.
    first = tmp_path / "one.mask.mkv"
    repair_video(damaged_file, first, tmp_path / "first.mkv", method="propagate", blend=DETECTED_MASK_BLEND)
    assert _invoke("repair", tmp_path / "first.mkv", *once, "-o", tmp_path / "again.mkv").exit_code == 0
    result = _invoke("repair", damaged_file, "--mask", "auto", "--method", "telea", "-o", tmp_path / "two.mkv", "--looks", "2")
    assert result.exit_code == 0, result.output
    expected = read_mask(first) | read_mask(tmp_path / "again.mask.mkv")
    np.testing.assert_array_equal(read_mask(tmp_path / "two.mask.mkv"), expected)
    names = ["again.mask.mkv", "again.mkv", "first.mkv", "one.mask.mkv", "one.mkv", "two.mask.mkv", "two.mkv"]
    assert sorted(path.name for path in tmp_path.iterdir()) == names


def test_a_clean_clip_is_almost_untouched(clean_file, clean_film_clip, tmp_path):
    output = tmp_path / "out.mkv"
    result = _invoke("repair", clean_file, "--mask", "auto", "-o", output, "--method", "telea")
    assert result.exit_code == 0, result.output
    found = read_mask(tmp_path / "out.mask.mkv")
    assert found.mean() < 0.001
    repaired = read_video(output)
    assert np.array_equal(repaired[~found], clean_film_clip[~found])
    if not found.any():
        assert np.array_equal(repaired, clean_film_clip)


def test_a_two_frame_clip_warns_and_still_works(film_clip, tmp_path, caplog):
    source = write_video(tmp_path / "short.mkv", film_clip[0][:2], fps=24)
    with caplog.at_level(logging.WARNING):
        result = _invoke("repair", source, "--mask", "auto", "-o", tmp_path / "short-out.mkv", "--method", "telea")
    assert result.exit_code == 0, result.output
    assert "without the temporal cue" in caplog.text
    assert len(read_video(tmp_path / "short-out.mkv")) == 2


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("detect", "--threshold", "1.5"),
        ("repair", "--threshold", "1.5"),
        ("detect", "--scales", "1,0"),
        ("detect", "--scales", "1.5"),
        ("repair", "--scales", "1,1"),
        ("repair", "--scales", "big"),
        ("detect", "--grow-threshold", "0.7"),
        ("repair", "--grow-threshold", "0"),
        ("repair", "--confirm-tolerance", "255"),
        ("repair", "--confirm-tolerance", "-1"),
        ("repair", "--looks", "0"),
        ("repair", "--looks", "5"),
    ],
)
def test_a_bad_detection_option_is_one_line_and_leaves_nothing(command, option, value, damaged_file, tmp_path):
    out = tmp_path / "out.mkv"
    args = ["detect", damaged_file, "-o", out] if command == "detect" else ["repair", damaged_file, "--mask", "auto", "-o", out]
    result = _invoke(*args, option, value)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [("--threshold", "0.5"), ("--grow-threshold", "0.5"), ("--confirm-tolerance", "5"), ("--no-confirm",), ("--looks", "2")],
)
def test_detection_options_need_the_auto_mask(damaged_file, tmp_path, options):
    result = _invoke("repair", damaged_file, "--mask", damaged_file, "-o", tmp_path / "o.mkv", *options)
    assert result.exit_code == 2 and "--mask auto" in result.stderr


def test_no_confirm_and_a_confirmation_tolerance_exclude_each_other(damaged_file, tmp_path):
    options = ("--no-confirm", "--confirm-tolerance", "5")
    result = _invoke("repair", damaged_file, "--mask", "auto", "-o", tmp_path / "o.mkv", *options)
    assert result.exit_code == 2 and "exclude each other" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_clip_where_nothing_is_found_passes_through_unchanged(tmp_path):
    frames = smooth_video(8, 64, 64)
    source = write_video(tmp_path / "smooth.mkv", frames, fps=24)
    result = _invoke("repair", source, "--mask", "auto", "-o", tmp_path / "same.mkv", "--method", "telea")
    assert result.exit_code == 0, result.output
    assert not read_mask(tmp_path / "same.mask.mkv").any()
    assert np.array_equal(read_video(tmp_path / "same.mkv"), frames)
