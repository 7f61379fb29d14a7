"""benchmarks/bench_detect.py: held-out quality per size and scale setting, speed with ratios."""

from __future__ import annotations

import json

import pytest
from benchmark_scripts import load_benchmark_script


@pytest.fixture
def bundled_photos_only(monkeypatch):
    """The card's photographs without the footage cache: tests never download."""
    from seedvr.data.photos import PHOTO_NAMES
    from seedvr.evaluate import detection

    monkeypatch.setattr(detection, "card_photos", lambda: (list(PHOTO_NAMES[:4]), list(PHOTO_NAMES[4:8])))


def test_the_report_has_every_size_and_setting(bundled_photos_only, tmp_path):
    script = load_benchmark_script("bench_detect.py")
    out = tmp_path / "detect.json"
    argv = ["--sizes", "64x48", "--speed-sizes", "64x48", "160x96", "--scales", "1", "1,0.4", "--repeats", "1"]
    assert script.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [(entry["size"], entry["scales"]) for entry in report["quality"]] == [("64x48", [1.0]), ("64x48", [1.0, 0.4])]
    # At 64x48 the 0.4 scale is skipped (under 64 px): the same detection, the same scores.
    assert report["quality"][0]["scores"] == report["quality"][1]["scores"]
    assert set(report["quality"][0]["scores"]) == {"scratch", "blotch", "dust", "film", "clean"}
    speed = report["speed"]
    assert [entry["size"] for entry in speed] == ["64x48", "64x48", "160x96", "160x96"]
    assert speed[0]["ratio_to_first"] == 1.0 and all(entry["seconds_per_frame"] > 0 for entry in speed)


@pytest.mark.parametrize("argv", [["--sizes", "64by48"], ["--sizes", "8x8"], ["--scales", "1,2"]])
def test_bad_arguments_are_one_line_and_exit_2(argv, tmp_path, capsys):
    script = load_benchmark_script("bench_detect.py")
    assert script.main([*argv, "--out", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0 and not (tmp_path / "x.json").exists()
