"""benchmarks/bench_detect_styles.py: damage in other looks than the generators', drawn on a clip."""

from __future__ import annotations

import numpy as np
import pytest
from benchmark_scripts import load_benchmark_script

SCRIPT = load_benchmark_script("bench_detect_styles.py")


@pytest.mark.parametrize("style", SCRIPT.STYLES)
def test_each_style_is_drawn_only_where_its_truth_is_and_the_same_from_one_seed(style):
    clean = np.random.default_rng(1).integers(40, 200, (6, 60, 100, 3), dtype=np.uint8)
    damaged, truth = SCRIPT.draw_style(clean, style, np.random.default_rng(0))
    assert truth.any() and np.array_equal(damaged[~truth], clean[~truth])
    if style in SCRIPT.LINE_COLOURS:
        assert np.all(damaged[truth] == SCRIPT.LINE_COLOURS[style])  # opaque, hard-edged paint
        assert truth.any(axis=(1, 2)).all()  # a scratch runs through every frame
    if style == "flat_blotches":
        assert [bool(frame.any()) for frame in truth] == [True, False, False, True, False, False]
    again = SCRIPT.draw_style(clean, style, np.random.default_rng(0))
    assert np.array_equal(again[0], damaged) and np.array_equal(again[1], truth)


def test_too_few_frames_is_one_line_and_exit_2(tmp_path, capsys):
    assert SCRIPT.main(["--frames", "1", "--out", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0 and not (tmp_path / "x.json").exists()
