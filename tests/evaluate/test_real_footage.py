"""Real-footage benchmark: cases, destroyed inputs, scoring and the report, on tiny generated clips.

Nothing is downloaded: the footage videos are replaced by tiny clips written here.
"""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
from benchmark_scripts import load_benchmark_script

from seedvr.config import DAMAGE_KINDS
from seedvr.data.photos import load_photo
from seedvr.engine.methods import RepairMethod, make_method
from seedvr.errors import SeedVRError
from seedvr.evaluate import real_footage as bench
from seedvr.metrics import PSNR_CAP_DB

FRAMES, HEIGHT, WIDTH = 8, 48, 64


def panning_clip(frames: int = FRAMES, height: int = HEIGHT, width: int = WIDTH, step: int = 2, offset: int = 0) -> np.ndarray:
    """A camera sliding ``step`` px per frame over a real photo (reduced), so propagation has motion to use."""
    photo = cv2.resize(load_photo("coffee"), (160, 120), interpolation=cv2.INTER_AREA)
    return np.stack([photo[10 : 10 + height, offset + step * t : offset + step * t + width] for t in range(frames)])


def spec_for(kinds: tuple[str, ...], seed: int = 7, name: str = "tiny") -> bench.CaseSpec:
    return bench.CaseSpec(name, "src", 0, kinds, (0.05, 0.15), seed, size=(WIDTH, HEIGHT))


def truth_method(clean: np.ndarray) -> RepairMethod:
    """A perfect repair: the true pixels inside the mask, the input outside."""
    return RepairMethod("truth", lambda frames, masks: np.where(masks[..., None], clean, frames))


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return panning_clip()


@pytest.mark.parametrize("kinds", [(kind,) for kind in DAMAGE_KINDS] + [(bench.STATIC_SQUARE,), ("scratch", "dust")])
def test_no_true_pixel_reaches_the_input(clean, kinds):
    case = bench.build_case(spec_for(kinds), clean)
    mask = case.mask
    assert mask.any() and not mask.all()
    np.testing.assert_array_equal(case.damaged[~mask], clean[~mask])
    # The pixels under the mask come from the mask and the seed alone: damaging a black or a
    # white clip with the same layers gives exactly the same values there.
    layers, same_mask = bench.draw_case_layers(clean, case.spec)
    np.testing.assert_array_equal(same_mask, mask)
    for truth in (np.zeros_like(clean), np.full_like(clean, 255)):
        fill = bench.destroy_under_mask(truth, mask, layers, case.spec.seed)
        np.testing.assert_array_equal(case.damaged[mask], fill[mask])
    # And the input differs from the truth almost everywhere under the mask (equal only by chance).
    assert (case.damaged[mask] != clean[mask]).any(axis=-1).mean() > 0.9


def test_cases_are_deterministic_under_their_seed(clean):
    first = bench.build_case(spec_for(("object", "logo")), clean)
    again = bench.build_case(spec_for(("object", "logo")), clean)
    np.testing.assert_array_equal(first.mask, again.mask)
    np.testing.assert_array_equal(first.damaged, again.damaged)
    other = bench.build_case(spec_for(("object", "logo"), seed=8), clean)
    assert not np.array_equal(first.mask, other.mask)


def test_object_masks_move_and_the_static_square_sits_on_the_motion():
    # Left half still, right half moving: the square must land on the right.
    still = panning_clip(step=0)
    moving = panning_clip(step=3, offset=20)
    clip = np.concatenate([still[:, :, : WIDTH // 2], moving[:, :, WIDTH // 2 :]], axis=2)
    square = bench.build_case(spec_for((bench.STATIC_SQUARE,)), clip).mask
    assert all(np.array_equal(square[0], frame) for frame in square)
    columns = np.flatnonzero(square[0].any(axis=0))
    assert columns.min() >= WIDTH // 2 - 2
    objects = bench.build_case(spec_for(("object",)), clip).mask
    assert not all(np.array_equal(objects[0], frame) for frame in objects)


def test_fit_to_size_crops_reduces_and_never_enlarges():
    wide = np.zeros((2, 60, 120, 3), np.uint8)
    fitted, note = bench.fit_to_size(wide, 40, 30)
    assert fitted.shape == (2, 30, 40, 3) and note is None
    same, note = bench.fit_to_size(wide, 160, 90)
    assert same.shape == wide.shape and "never upscaled" in note


def test_perfect_repair_scores_the_cap_and_telea_scores_lower(clean):
    case = bench.build_case(spec_for(("stroke",)), clean)
    perfect = bench.score_repair(truth_method(clean).repair(case.damaged, case.mask), case)
    assert perfect["psnr_mask"] == PSNR_CAP_DB
    assert perfect["ssim_mask"] == pytest.approx(1.0)
    assert perfect["exact_outside_mask"]
    telea = bench.score_repair(make_method("telea").repair(case.damaged, case.mask), case)
    assert telea["psnr_mask"] < 40.0 < perfect["psnr_mask"]
    assert telea["ssim_mask"] < perfect["ssim_mask"]
    assert telea["exact_outside_mask"]
    for key in ("ewarp", "ewarp_mask"):
        assert np.isfinite(telea[key]) and np.isfinite(perfect[key])
    # Returning the damaged input unchanged is never "exact" inside and scores badly.
    lazy = bench.score_repair(case.damaged, case)
    assert lazy["psnr_mask"] < telea["psnr_mask"]


def test_summary_gains_use_the_best_other_method(clean):
    case = bench.build_case(spec_for(("dust",)), clean)
    methods = {"seedvr": truth_method(clean), "propagate": make_method("propagate"), "telea": make_method("telea")}
    record = bench.run_case(case, methods)
    assert set(record["methods"]) == set(methods)
    assert all(set(bench.CASE_METRICS) <= set(scores) for scores in record["methods"].values())
    summary = bench.summarize_cases([record], list(methods))
    assert set(summary["per_kind"]) == {"dust"}
    vs_propagate = summary["gains"]["seedvr_vs_propagate"]
    best = summary["gains"]["seedvr_vs_best_other"]
    assert vs_propagate["baseline"] == "propagate"
    expected = max(("propagate", "telea"), key=lambda m: record["methods"][m]["psnr_mask"])
    assert best["baseline"] == expected
    assert best["psnr_mask_db"] > 0 and vs_propagate["psnr_mask_db"] > 0
    assert set(best) >= {"psnr_mask_db", "ssim_mask", "ewarp", "ewarp_mask", "ewarp_mask_off_truth", "per_kind"}
    # The truth's own warping residual is the reference: a perfect repair is exactly on it.
    assert record["methods"]["seedvr"]["ewarp_mask"] == pytest.approx(record["truth"]["ewarp_mask"])
    assert record["methods"]["seedvr"]["ewarp_mask_off_truth"] == pytest.approx(0.0, abs=1e-9)
    assert record["methods"]["telea"]["ewarp_mask_off_truth"] > 0.0
    assert summary["truth"]["ewarp_mask"] == pytest.approx(record["truth"]["ewarp_mask"])
    assert bench.summarize_cases([record], ["propagate", "telea"])["gains"]["seedvr_vs_propagate"] is None


def test_select_cases_filters_by_substring():
    assert [case.name for case in bench.select_cases(bench.CASES, "megamind")] == [
        case.name for case in bench.CASES if "megamind" in case.name
    ]
    quick = bench.select_cases(bench.CASES, quick=True)
    assert 1 <= len(quick) <= 3
    with pytest.raises(SeedVRError, match="no case matches"):
        bench.select_cases(bench.CASES, "nothing-like-this")


def test_case_list_covers_every_kind_and_a_large_case():
    kinds = {kind for case in bench.CASES for kind in case.kinds}
    assert kinds == set(bench.CASE_KINDS)
    assert 10 <= len(bench.CASES) <= 14
    assert len({case.name for case in bench.CASES}) == len(bench.CASES)
    assert any(case.size == bench.LARGE_SIZE for case in bench.CASES)


# -- the benchmark script, end to end on tiny stand-in footage ------------------------------


@pytest.fixture(scope="module")
def bench_script():
    return load_benchmark_script("bench_quality.py")


@pytest.fixture
def tiny_footage(tmp_path, monkeypatch):
    """Two tiny source videos (lossless) standing in for the footage, and tiny cases over them."""
    from seedvr.data import footage
    from seedvr.io import write_video

    videos = {}
    for name, offset in (("pan", 0), ("other", 30)):
        videos[name] = write_video(tmp_path / f"{name}.mkv", panning_clip(frames=20, offset=offset), Fraction(10))
    monkeypatch.setattr(footage, "footage_videos", lambda cache_dir=None: dict(videos))
    cases = (
        bench.CaseSpec("pan-scratch", "pan", 1, ("scratch",), (0.03, 0.08), 1, size=(WIDTH, HEIGHT), quick=True),
        bench.CaseSpec("other-object", "other", 0, ("object",), (0.05, 0.12), 2, size=(32, 24), quick=True),
        bench.CaseSpec("pan-large-square", "pan", 0, (bench.STATIC_SQUARE,), (0.05, 0.06), 3, size=bench.LARGE_SIZE),
    )
    monkeypatch.setattr(bench, "CASES", cases)
    return videos


def test_script_writes_the_promised_report(bench_script, tiny_footage, tmp_path, capsys):
    out = tmp_path / "results" / "bench_quality.json"
    code = bench_script.main(["--methods", "propagate,telea,ns", "--frames", "6", "--out", str(out), "--model", "unused"])
    assert code == 0
    report = json.loads(out.read_text())
    for key in (
        "benchmark",
        "command",
        "date",
        "git_commit",
        "machine",
        "model",
        "methods",
        "frames_per_case",
        "sources",
        "footage",
        "large_case",
        "cases",
        "per_kind",
        "overall",
        "gains",
        "wall_seconds",
    ):
        assert key in report, key
    assert report["machine"]["cpu_count"] >= 1
    assert set(report["model"]) >= {"path", "steps"}
    assert report["methods"] == ["propagate", "telea", "ns"]
    assert {name: len(source["sha256"]) for name, source in report["sources"].items()} == {"pan": 64, "other": 64}
    assert len(report["cases"]) == 3
    for case in report["cases"]:
        assert set(case) >= {"name", "source", "size", "kinds", "mask_ratio", "methods"}
        assert case["frames"] == 6
        for scores in case["methods"].values():
            assert set(scores) >= {"psnr_mask", "ssim_mask", "ewarp", "ewarp_mask", "sec_per_frame"}
            assert scores["exact_outside_mask"] is True
    sizes = {case["name"]: case["size"] for case in report["cases"]}
    assert sizes == {"pan-scratch": "64x48", "other-object": "32x24", "pan-large-square": "64x48"}
    assert "never upscaled" in report["large_case"]["cases"][0]["size_note"]
    assert set(report["per_kind"]) == {"scratch", "object", bench.STATIC_SQUARE}
    assert set(report["overall"]) == {"propagate", "telea", "ns"}
    assert report["gains"] == {"seedvr_vs_propagate": None, "seedvr_vs_best_other": None}
    printed = capsys.readouterr().out
    assert "| pan-scratch |" in printed and "psnr_mask (dB) per kind" in printed


def test_script_quick_and_case_filter(bench_script, tiny_footage, tmp_path):
    out = tmp_path / "quick.json"
    assert bench_script.main(["--quick", "--methods", "telea", "--cases", "object", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [case["name"] for case in report["cases"]] == ["other-object"]
    assert report["frames_per_case"] == bench.QUICK_FRAMES
    assert report["cases"][0]["frames"] == bench.QUICK_FRAMES


def test_script_errors_are_one_line_and_exit_2(bench_script, tiny_footage, tmp_path, capsys):
    out = tmp_path / "never.json"
    assert bench_script.main(["--methods", "seedvr,telea", "--model", str(tmp_path / "no-model"), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "no-model" in error and "--model" in error
    assert bench_script.main(["--methods", "telea", "--cases", "nothing", "--out", str(out)]) == 2
    assert "\n" not in capsys.readouterr().err.strip()
    assert bench_script.main(["--methods", "bogus", "--out", str(out)]) == 2
    assert not out.exists()


def test_script_scores_seedvr_and_its_gains(bench_script, tiny_footage, tiny_pipeline_dir, tmp_path):
    out = tmp_path / "with-model.json"
    argv = [
        "--methods",
        "seedvr,propagate,telea",
        "--model",
        tiny_pipeline_dir,
        "--steps",
        "2",
        "--frames",
        "6",
        "--cases",
        "pan-scratch",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    assert bench_script.main(argv) == 0
    report = json.loads(out.read_text())
    assert report["model"]["path"] == tiny_pipeline_dir and report["model"]["steps"] == 2
    assert isinstance(report["model"]["default_steps"], int)
    assert report["cases"][0]["methods"]["seedvr"]["exact_outside_mask"] is True
    vs_propagate, vs_best = report["gains"]["seedvr_vs_propagate"], report["gains"]["seedvr_vs_best_other"]
    assert vs_propagate["baseline"] == "propagate" and vs_best["baseline"] in ("propagate", "telea")
    assert set(vs_best) >= {"psnr_mask_db", "ssim_mask", "ewarp", "ewarp_mask", "per_kind"}


def test_script_adapts_a_fresh_model_per_clip(bench_script, tiny_footage, tiny_pipeline_dir, tmp_path):
    out = tmp_path / "adapt.json"
    argv = ["--methods", "seedvr", "--adapt", "2", "--model", str(tiny_pipeline_dir), "--cases", "pan-scratch", "--frames", "6"]
    assert bench_script.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["model"]["adapt_steps"] == 2
    # One adaptation per clip, each from the model on disk (its own two steps, not a running total).
    assert [entry["steps"] for entry in report["model"]["adapt_reports"]] == [2]
    assert report["cases"][0]["methods"]["seedvr"]["exact_outside_mask"] is True


def test_benchmark_frames_are_the_ranges_the_cases_read(tiny_footage):
    # 20-frame videos, 8-frame cases: a case asked to start at 15 is moved back to 12, as read.
    late = bench.CaseSpec("pan-late", "pan", 15, ("scratch",), (0.03, 0.08), 4, size=(WIDTH, HEIGHT))
    taken = bench.benchmark_frames(tiny_footage, (*bench.CASES, late), frames=8)
    assert taken == {"pan": [(1, 9), (0, 8), (12, 20)], "other": [(0, 8)]}
    clip, start = bench.read_clip(tiny_footage["pan"], 15, 8)
    assert start == 12 and len(clip) == 8


# -- the flow headroom script ----------------------------------------------------------------


def test_flow_headroom_script_reports_each_variant(tiny_footage, tmp_path, capsys):
    script = load_benchmark_script("bench_flow_headroom.py")
    out = tmp_path / "headroom.json"
    assert script.main(["--cases", "pan-scratch,other-object", "--frames", "6", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [case["name"] for case in report["cases"]] == ["pan-scratch", "other-object"]
    for case in report["cases"]:
        assert set(case["psnr_mask"]) == set(script.VARIANTS)
        assert case["hole_flow_epe_px"] >= 0.0
    means = report["mean_psnr_mask"]
    assert report["mean_headroom_over_propagate_db"] == pytest.approx(means["truth_in_holes"] - means["propagate"], abs=1e-3)
    assert report["git_commit"] and report["frames_per_case"] == 6
    assert "| mean |" in capsys.readouterr().out


def test_flow_headroom_measures_only_inside_the_pairs_holes():
    script = load_benchmark_script("bench_flow_headroom.py")
    masks = np.zeros((3, 4, 4), dtype=bool)
    masks[0, 0, 0] = masks[2, 3, 3] = True
    holes = script.pair_holes(masks)
    assert holes.shape == (2, 4, 4) and holes[0, 0, 0] and holes[1, 3, 3] and holes.sum() == 2
    truth = (np.zeros((2, 4, 4, 2), np.float32), np.zeros((2, 4, 4, 2), np.float32))
    off = (truth[0] + 3.0, truth[1] + 4.0)  # 3 px and 4 px off everywhere
    off[0][~holes] = 100.0  # errors outside the holes are not counted
    assert script.hole_epe(off, truth, holes) == pytest.approx((3 * np.sqrt(2) + 4 * np.sqrt(2)) / 2)
    assert script.hole_epe(truth, truth, holes) == 0.0


def test_flow_headroom_refuses_a_single_frame(capsys):
    script = load_benchmark_script("bench_flow_headroom.py")
    assert script.main(["--frames", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# -- the stage ablation script ---------------------------------------------------------------


@pytest.fixture(scope="module")
def active_pipeline_dir(tmp_path_factory) -> str:
    """A tiny pipeline whose zero-initialised output layers are switched on (small random
    weights), so that every stage changes the fill and the ablation has something to tell apart."""
    import torch

    from seedvr.pipeline.pipeline import SeedVRPipeline

    pipeline = SeedVRPipeline.from_preset("tiny", seed=0)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for component in (pipeline.denoiser, pipeline.detail_net, pipeline.texture_net):
            for parameter in component.parameters():
                if parameter.dim() > 1 and not parameter.any():
                    parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    folder = tmp_path_factory.mktemp("active-pipeline") / "pipeline"
    pipeline.save_pretrained(str(folder))
    return str(folder)


def test_stages_script_splits_seedvr_into_its_stages(tiny_footage, active_pipeline_dir, tmp_path, capsys):
    script = load_benchmark_script("bench_stages.py")
    out = tmp_path / "stages.json"
    argv = ["--model", active_pipeline_dir, "--steps", "2", "--cases", "pan-scratch", "--frames", "6", "--device", "cpu"]
    assert script.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (case,) = report["cases"]
    scores = case["psnr_mask"]
    assert set(scores) == set(script.VARIANTS) == set(report["variants"])
    # The stages are really switched on and off: each variant's fill differs from the others'.
    assert len({round(value, 3) for value in scores.values()}) == len(script.VARIANTS)
    # The split is faithful: `guess` is `propagate` and `seedvr` is the model as repair runs it.
    spec = next(spec for spec in bench.CASES if spec.name == "pan-scratch")
    clip = bench.load_case(spec, tiny_footage, 6)
    for variant, method in (("guess", make_method("propagate")), ("seedvr", make_method("seedvr", active_pipeline_dir, 2))):
        repaired = method.repair(clip.damaged.copy(), clip.mask.copy())
        assert scores[variant] == pytest.approx(bench.psnr(repaired, clip.clean, clip.mask), abs=1e-3), variant
    assert case["gain_over_guess_db"]["seedvr"] == pytest.approx(scores["seedvr"] - scores["guess"], abs=2e-3)
    assert report["worst_case"]["refinement"]["case"] == "pan-scratch"
    assert set(report["per_kind_gain_over_guess_db"]) == {"scratch"}
    assert set(case["sec_per_frame"]) == {"conditions", "diffusion", "refinement"}
    assert "| pan-scratch |" in capsys.readouterr().out


def test_stages_script_refuses_bad_input_in_one_line(tiny_footage, tmp_path, capsys):
    script = load_benchmark_script("bench_stages.py")
    out = tmp_path / "never.json"
    assert script.main(["--frames", "1", "--out", str(out)]) == 2
    assert script.main(["--model", str(tmp_path / "no-model"), "--out", str(out)]) == 2
    assert script.main(["--seed", "-1", "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and "no-model" in errors[1] and "--seed" in errors[2]
    assert not out.exists()
