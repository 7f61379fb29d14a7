"""``bench_quality.py --blind``: film-damage cases repaired inside the detected and the true mask.

Tiny generated footage stands in for the real videos (the real benchmark takes 25+ minutes):
only the film cases run, the true mask changes no clean pixel (lossless), the detected one is
scored against it, and the report and its table say both.
"""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
from benchmark_scripts import load_benchmark_script

from seedvr.config import DetectorParams
from seedvr.data.photos import load_photo
from seedvr.errors import SeedVRError
from seedvr.evaluate import real_footage as bench
from seedvr.evaluate.blind_footage import film_cases

SIZE = (64, 48)


def _pan(frames: int = 12, offset: int = 0) -> np.ndarray:
    photo = cv2.resize(load_photo("coffee"), (160, 120), interpolation=cv2.INTER_AREA)
    return np.stack([photo[10 : 10 + SIZE[1], offset + 2 * t : offset + 2 * t + SIZE[0]] for t in range(frames)])


@pytest.fixture
def film_footage(tmp_path, monkeypatch):
    from seedvr.data import footage
    from seedvr.io import write_video

    video = write_video(tmp_path / "pan.mkv", _pan(), Fraction(10))
    monkeypatch.setattr(footage, "footage_videos", lambda cache_dir=None: {"pan": video})
    cases = (
        bench.CaseSpec("pan-scratch", "pan", 0, ("scratch",), (0.02, 0.05), 1, size=SIZE),
        bench.CaseSpec("pan-film", "pan", 0, ("scratch", "blotch", "dust"), (0.03, 0.06), 2, size=SIZE),
        bench.CaseSpec("pan-object", "pan", 0, ("object",), (0.05, 0.12), 3, size=SIZE),
    )
    monkeypatch.setattr(bench, "CASES", cases)
    return cases


def test_only_film_cases_are_blind_cases(film_footage):
    assert [spec.name for spec in film_cases(film_footage)] == ["pan-scratch", "pan-film"]
    with pytest.raises(SeedVRError, match="no film-damage case"):
        film_cases(film_footage[2:])


def test_blind_report_compares_detected_and_true_masks(film_footage, tmp_path, capsys):
    script = load_benchmark_script("bench_quality.py")
    out = tmp_path / "blind.json"
    assert script.main(["--blind", "--methods", "telea", "--frames", "8", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["blind"] is True and report["detector"]["path"] == "models/seedvr-detector"
    assert report["detector"]["grow_threshold"] == DetectorParams().auto_grow_threshold
    assert report["detector"]["confirm_tolerance"] == DetectorParams().confirm_tolerance
    assert [case["name"] for case in report["cases"]] == ["pan-scratch", "pan-film"]
    for case in report["cases"]:
        assert case["frames"] == 8 and 0.0 <= case["detection"]["recall"] <= 1.0
        # What --mask auto repairs: what detect reports grown, then what a propagated repair changes of it.
        assert case["grown_mask"]["recall"] >= case["detection"]["recall"]
        assert case["grown_mask"]["flagged"] >= case["detection"]["flagged"]
        assert case["repair_mask"]["flagged"] <= case["grown_mask"]["flagged"]
        true, detected = case["methods"]["telea"]["true_mask"], case["methods"]["telea"]["detected_mask"]
        assert true["clean_pixels_changed"] == 0  # the lossless invariant: nothing outside the true mask moves
        assert detected["clean_pixels_changed"] >= 0 and detected["psnr"] > 0 and true["psnr_true_mask"] > 0
    overall = report["overall"]["telea"]
    assert set(overall) == {"true_mask", "detected_mask"} and set(overall["true_mask"]) == {
        "psnr",
        "psnr_true_mask",
        "clean_pixels_changed",
    }
    printed = capsys.readouterr().out
    assert "| pan-film | scratch+blotch+dust |" in printed and "PSNR true / detected (dB)" in printed


def test_a_blind_run_without_confirmation_repairs_every_grown_detection(film_footage, tmp_path):
    script = load_benchmark_script("bench_quality.py")
    out = tmp_path / "blind.json"
    args = ["--blind", "--methods", "telea", "--frames", "8", "--cases", "pan-scratch", "--no-confirm", "--out", str(out)]
    assert script.main(args) == 0
    report = json.loads(out.read_text())
    assert report["detector"]["confirm_tolerance"] is None
    (case,) = report["cases"]
    assert "grown_mask" not in case and case["repair_mask"]["recall"] >= case["detection"]["recall"]


def test_the_detected_mask_is_repaired_as_mask_auto_repairs_it(film_footage):
    from seedvr.baselines.classical import telea_repair
    from seedvr.data.footage import footage_videos
    from seedvr.engine.detect import DEFAULT_SCALES, DEFAULT_THRESHOLD, load_detector
    from seedvr.engine.methods import RepairMethod
    from seedvr.evaluate.blind_footage import run_blind_case
    from seedvr.ops.blending import DETECTED_MASK_BLEND

    shares = []

    def rebuilt(share):
        shares.append(share)
        return RepairMethod("spy", telea_repair)

    method = RepairMethod("spy", telea_repair, rebuild_with_blend=rebuilt)
    case = bench.load_case(film_footage[0], footage_videos(), 8)
    record = run_blind_case(case, {"spy": method}, load_detector(None), DEFAULT_THRESHOLD, 0, DEFAULT_SCALES)
    assert shares == [DETECTED_MASK_BLEND] and set(record["methods"]["spy"]) == {"true_mask", "detected_mask"}


def test_a_second_look_only_adds_to_the_repaired_mask(film_footage):
    from seedvr.data.footage import footage_videos
    from seedvr.engine.detect import AUTO_GROW_THRESHOLD, DEFAULT_SCALES, DEFAULT_THRESHOLD, load_detector
    from seedvr.engine.methods import make_method
    from seedvr.evaluate.blind_footage import Confirmation, Looks, run_blind_case

    propagate = make_method("propagate")
    case = bench.load_case(film_footage[0], footage_videos(), 8)
    detector, confirmation = load_detector(None), Confirmation(propagate, 10)
    records = [
        run_blind_case(
            case,
            {},
            detector,
            DEFAULT_THRESHOLD,
            0,
            DEFAULT_SCALES,
            None,
            AUTO_GROW_THRESHOLD,
            confirmation,
            Looks(count, propagate),
        )
        for count in (1, 2)
    ]
    one, two = (record["repair_mask"] for record in records)
    assert two["recall"] >= one["recall"]
    assert records[0]["grown_mask"] == records[1]["grown_mask"]  # the first look is the same
