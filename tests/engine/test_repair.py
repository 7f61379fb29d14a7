"""``seedvr repair`` / ``repair_video``: lossless outside the mask on disk, fps, audio, bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from media_samples import make_video_with_audio
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.engine.repair import dilate_masks, repair_video
from seedvr.io import probe, read_mask, read_video, write_mask, write_video

runner = CliRunner()
METHODS = ("propagate", "telea", "ns", "seedvr")


def invoke(*args: str):
    return runner.invoke(app, ["repair", *map(str, args)])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("suffix", [".mkv", ""])
def test_every_method_is_lossless_outside_the_mask_on_disk(damaged_files, tiny_pipeline_dir, tmp_path, method, suffix):
    video, mask = damaged_files
    output = tmp_path / f"out{suffix}"
    extra = ["--model", tiny_pipeline_dir, "--steps", "2"] if method == "seedvr" else []
    result = invoke(video, "--mask", mask, "-o", output, "--method", method, "--chunk", "4", "--overlap", "1", *extra)
    assert result.exit_code == 0, result.output
    original, masks, repaired = read_video(video), read_mask(mask), read_video(output)
    assert repaired.shape == original.shape
    np.testing.assert_array_equal(repaired[~masks], original[~masks])
    assert probe(output).fps == Fraction(30000, 1001)


def test_one_image_mask_and_odd_sizes(tmp_path):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (3, 17, 23, 3), dtype=np.uint8)
    video = write_video(tmp_path / "odd.mkv", frames, Fraction(25))
    image = np.zeros((17, 23), np.uint8)
    image[4:9, 6:14] = 200  # grey above the threshold: damaged
    import cv2

    cv2.imwrite(str(tmp_path / "logo.png"), image)
    report = repair_video(video, tmp_path / "logo.png", tmp_path / "out.mkv", method="telea", chunk=2, overlap=1)
    repaired = read_video(tmp_path / "out.mkv")
    hole = np.broadcast_to(image >= 128, frames.shape[:3])
    np.testing.assert_array_equal(repaired[~hole], frames[~hole])
    assert report.frames == 3 and not np.array_equal(repaired[hole], frames[hole])


def test_a_0_1_mask_is_repaired_and_an_empty_one_refused(tmp_path):
    import cv2

    frames = np.random.default_rng(2).integers(0, 256, (3, 16, 20, 3), dtype=np.uint8)
    video = write_video(tmp_path / "clip.mkv", frames, Fraction(25))
    labels = np.zeros((16, 20), np.uint8)
    labels[5:9, 4:12] = 1  # a 0/1 array saved as an image, as most inpainting code does
    cv2.imwrite(str(tmp_path / "labels.png"), labels)
    report = repair_video(video, tmp_path / "labels.png", tmp_path / "out.mkv", method="telea")
    assert report.masked_pixels == 3 * 32
    hole = np.broadcast_to(labels > 0, frames.shape[:3])
    repaired = read_video(tmp_path / "out.mkv")
    np.testing.assert_array_equal(repaired[~hole], frames[~hole])
    assert not np.array_equal(repaired[hole], frames[hole])

    cv2.imwrite(str(tmp_path / "empty.png"), np.zeros((16, 20), np.uint8))
    result = invoke(video, "--mask", tmp_path / "empty.png", "-o", tmp_path / "same.mkv", "--method", "telea")
    assert result.exit_code == 2 and "marks no pixel as damaged" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "same.mkv").exists()
    # A detected mask may be empty (a clean video): the frames pass through.
    report = repair_video(video, tmp_path / "empty.png", tmp_path / "same.mkv", method="telea", allow_empty_mask=True)
    assert report.masked_pixels == 0
    np.testing.assert_array_equal(read_video(tmp_path / "same.mkv"), frames)


def test_mp4_with_audio_keeps_audio_and_frame_rate(tmp_path):
    source = tmp_path / "talk.mp4"
    make_video_with_audio(source, "aac", Fraction(25), frames=10)
    mask = np.zeros((48, 64), np.uint8)
    mask[10:20, 10:30] = 255
    import cv2

    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    result = invoke(source, "--mask", tmp_path / "mask.png", "-o", tmp_path / "fixed.mp4", "--method", "telea")
    assert result.exit_code == 0, result.output
    before, after = probe(source), probe(tmp_path / "fixed.mp4")
    assert after.has_audio and after.fps == before.fps and after.frames == before.frames


def test_streaming_uses_max_side_and_dilation(damaged_files, tmp_path):
    video, mask = damaged_files
    report = repair_video(video, mask, tmp_path / "small.mkv", method="telea", max_side=16, mask_dilate=2)
    original, masks, repaired = read_video(video), read_mask(mask), read_video(tmp_path / "small.mkv")
    assert report.masked_fraction > masks.mean()  # the dilated mask is larger
    dilated = dilate_masks(masks, 2)
    np.testing.assert_array_equal(repaired[~dilated], original[~dilated])
    changed = (repaired != original).any(axis=-1)
    assert changed[dilated & ~masks].any()  # dilation repaired pixels just outside the given mask


@pytest.mark.parametrize(
    "case",
    [
        "mask_size",
        "mask_frames",
        "text_as_mp4",
        "missing",
        "no_output_folder",
        "chunk0",
        "overlap",
        "cuda",
        "propagate_cuda",
        "not_a_model",
        "empty_folder",
        "huge_seed",
        "no_report_folder",
    ],
)
def test_bad_input_exits_non_zero_with_one_line_and_writes_nothing(damaged_files, tmp_path, case):
    video, mask = damaged_files
    output = tmp_path / "out.mkv"
    args = [video, "--mask", mask, "-o", output, "--method", "telea"]
    if case == "mask_size":
        write_mask(tmp_path / "m.mkv", np.ones((6, 20, 20), bool), Fraction(25))
        args[2] = tmp_path / "m.mkv"
    elif case == "mask_frames":
        write_mask(tmp_path / "m.mkv", np.ones((4, 32, 32), bool), Fraction(25))
        args[2] = tmp_path / "m.mkv"
    elif case == "text_as_mp4":
        (tmp_path / "bad.mp4").write_text("not a video")
        args[0] = tmp_path / "bad.mp4"
    elif case == "missing":
        args[0] = tmp_path / "nowhere.mkv"
    elif case == "no_output_folder":
        output = tmp_path / "absent" / "out.mkv"
        args[4] = output
    elif case == "chunk0":
        args += ["--chunk", "0"]
    elif case == "overlap":
        args += ["--chunk", "4", "--overlap", "4"]
    elif case == "cuda":
        args = args[:5] + ["--method", "seedvr", "--model", str(tmp_path), "--device", "cuda"]
    elif case == "propagate_cuda":  # propagate runs on the device asked for, so it is checked too
        if torch.cuda.is_available():
            pytest.skip("a CUDA GPU is present")
        args = args[:5] + ["--method", "propagate", "--device", "cuda"]
    elif case == "not_a_model":
        args = args[:5] + ["--method", "seedvr", "--model", str(tmp_path)]
    elif case == "empty_folder":
        (tmp_path / "frames").mkdir()
        args[0] = tmp_path / "frames"
    elif case == "huge_seed":
        args += ["--seed", "99999999999999999999"]  # beyond what torch's and numpy's generators take
    elif case == "no_report_folder":
        args += ["--report", tmp_path / "absent" / "report.json"]  # refused before the output is written
    result = invoke(*args)
    assert result.exit_code != 0
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert not output.exists()
    assert not [p for p in output.parent.glob(".*seedvr-tmp*")] if output.parent.exists() else True


# -- frames masked entirely -----------------------------------------------------------------


def _mask_with_frames_masked_entirely(mask: Path, folder: Path, which: slice) -> Path:
    masks = read_mask(mask)
    masks[which] = True
    return write_mask(folder / "wholly.mask.mkv", masks, Fraction(30000, 1001))


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_frame_by_frame_methods_refuse_a_frame_masked_entirely(damaged_files, tmp_path, method):
    video, mask = damaged_files
    output = tmp_path / "out.mkv"
    wholly = _mask_with_frames_masked_entirely(mask, tmp_path, slice(2, 3))
    result = invoke(video, "--mask", wholly, "-o", output, "--method", method)
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "masked entirely" in lines[0], result.output
    assert not output.exists()


def test_propagate_fills_a_frame_masked_entirely_from_the_others_but_not_a_video(damaged_files, tmp_path):
    video, mask = damaged_files
    output = tmp_path / "out.mkv"
    one_frame = _mask_with_frames_masked_entirely(mask, tmp_path, slice(2, 3))
    result = invoke(video, "--mask", one_frame, "-o", output, "--method", "propagate")
    assert result.exit_code == 0, result.output
    assert not np.array_equal(read_video(output)[2], read_video(video)[2])

    output.unlink()
    every_frame = _mask_with_frames_masked_entirely(mask, tmp_path, slice(None))
    result = invoke(video, "--mask", every_frame, "-o", output, "--method", "propagate")
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "nothing to repair them from" in lines[0], result.output
    assert not output.exists()


# -- per-video adaptation (--adapt) ------------------------------------------------------------


def test_adapt_fine_tunes_a_copy_then_repairs_losslessly(damaged_files, tiny_pipeline_dir, tmp_path):
    import json

    video, mask = damaged_files
    output, report = tmp_path / "adapted.mkv", tmp_path / "report.json"
    weights = sorted(Path(tiny_pipeline_dir).rglob("*.safetensors"))
    saved = {path: path.read_bytes() for path in weights}
    result = invoke(
        video,
        "--mask",
        mask,
        "-o",
        output,
        "--model",
        tiny_pipeline_dir,
        "--steps",
        "2",
        "--chunk",
        "4",
        "--overlap",
        "1",
        "--adapt",
        "2",
        "--report",
        report,
    )
    assert result.exit_code == 0, result.output
    original, masks, repaired = read_video(video), read_mask(mask), read_video(output)
    np.testing.assert_array_equal(repaired[~masks], original[~masks])
    adapt = json.loads(report.read_text())["details"]["adapt"]
    assert adapt["steps"] == adapt["requested_steps"] == 2 and adapt["frames"] == 6 and len(adapt["losses"]) == 2
    assert "adapted a copy of the model: 2 steps" in result.output
    assert {path: path.read_bytes() for path in weights} == saved, "the saved model must not change"


@pytest.mark.parametrize("case", ["telea", "seconds_alone", "zero_seconds", "absurd"])
def test_bad_adapt_requests_exit_with_one_line(damaged_files, tiny_pipeline_dir, tmp_path, case):
    video, mask = damaged_files
    output = tmp_path / "out.mkv"
    args = {
        "telea": ["--adapt", "2", "--method", "telea"],
        "seconds_alone": ["--model", tiny_pipeline_dir, "--adapt-seconds", "5"],
        "zero_seconds": ["--model", tiny_pipeline_dir, "--adapt", "2", "--adapt-seconds", "0"],
        "absurd": ["--model", tiny_pipeline_dir, "--adapt", "100001"],
    }[case]
    result = invoke(video, "--mask", mask, "-o", output, *args)
    assert result.exit_code != 0
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert not output.exists()


def test_adaptation_reads_evenly_spaced_runs_of_a_long_video(damaged_files):
    from seedvr.engine.repair import adaptation_windows, read_adaptation_clips

    assert adaptation_windows(6, 64, 8) == [range(6)]
    windows = adaptation_windows(1000, 64, 8)
    assert len(windows) == 8 and all(len(w) == 8 for w in windows)
    assert windows[0].start == 0 and windows[-1].stop == 1000
    assert all(a.stop <= b.start for a, b in zip(windows, windows[1:]))
    video, mask = damaged_files
    frames, masks = read_adaptation_clips(video, mask, probe(video), [range(0, 2), range(4, 6)], mask_dilate=0, max_side=None)
    original, original_masks = read_video(video), read_mask(mask)
    np.testing.assert_array_equal(np.concatenate(frames), original[[0, 1, 4, 5]])
    np.testing.assert_array_equal(np.concatenate(masks), original_masks[[0, 1, 4, 5]])
