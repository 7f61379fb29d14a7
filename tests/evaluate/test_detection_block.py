"""``seedvr evaluate --detector``: the detector scored beside the methods (metrics.json ``detection``).

The block holds per-pixel scores per film kind of the split and the flagged fraction on the
clean videos of those clips, matching :func:`detection_scores` computed here by hand; the
report and the command line show it; without ``--detector`` the file has no such block and
files written before it still read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seedvr.cli import app
from seedvr.engine.detect import detect_damage
from seedvr.evaluate.metrics_file import EvaluationMetrics
from seedvr.metrics.detection import detection_scores
from seedvr.pipeline.detector_folder import load_detector
from seedvr.pipeline.shipped import SHIPPED_DETECTOR
from seedvr.train.detector import manifest_clips

runner = CliRunner()


@pytest.fixture(scope="module")
def detected_evaluation(tiny_dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("detection-eval") / "eval"
    args = ["evaluate", "--data", tiny_dataset_dir, "--out", out, "--methods", "propagate", "--max-clips", "1"]
    result = runner.invoke(app, [*map(str, args), "--strips", "0", "--detector", str(SHIPPED_DETECTOR)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_detection_block_scores_each_film_kind_and_the_clean_clips(detected_evaluation, tiny_dataset_dir):
    out, _ = detected_evaluation
    detection = EvaluationMetrics.from_file(out / "metrics.json").detection
    assert detection is not None and detection.detector == str(SHIPPED_DETECTOR)
    assert (detection.threshold, detection.dilate, detection.tolerance) == (0.5, 0, 1)
    assert list(detection.per_kind) == ["blotch", "dust", "scratch"]
    # Every film clip of the split (not only the --max-clips repaired), and the clean video of each.
    clips = manifest_clips(tiny_dataset_dir, "test", with_clean=True)
    detector = load_detector(SHIPPED_DETECTOR)
    scratch = [clip for clip in clips if clip.kind == "scratch"]
    expected = detection_scores(np.concatenate([detect_damage(c.frames, detector) for c in scratch]), scratch[0].mask)
    figures = detection.per_kind["scratch"]
    assert (figures.precision, figures.recall, figures.iou) == pytest.approx((expected.precision, expected.recall, expected.iou))
    assert figures.clips == 1 and figures.frames == scratch[0].frames.shape[0]
    assert detection.clean.clips == 3 and 0.0 <= detection.clean.flagged_fraction < 0.05


def test_report_and_command_line_show_the_detection_table(detected_evaluation):
    out, output = detected_evaluation
    report = (out / "report.md").read_text()
    assert "## Damage detection (blind mode)" in report
    assert "| film kind | clips | precision ↑ | recall ↑ | IoU ↑ |" in report and "Clean clips (3):" in report
    assert "film kind" in output and "clean clips:" in output


def test_without_a_detector_there_is_no_block_and_older_files_read(full_evaluation):
    document = json.loads((full_evaluation.out_dir / "metrics.json").read_text())
    assert "detection" not in document and full_evaluation.metrics.detection is None
    assert "Damage detection" not in (full_evaluation.out_dir / "report.md").read_text()
    assert EvaluationMetrics.from_document(document, "an older metrics.json").detection is None


def test_a_split_without_film_damage_is_one_line(tiny_dataset_dir, tmp_path):
    from seedvr.errors import SeedVRError
    from seedvr.evaluate.dataset_detection import evaluate_detection

    rows = (Path(tiny_dataset_dir) / "manifest.csv").read_text().splitlines()
    kept = [rows[0]] + [row for row in rows[1:] if not any(kind in row for kind in ("scratch", "blotch", "dust"))]
    (tmp_path / "manifest.csv").write_text("\n".join(kept) + "\n")
    (tmp_path / "clips").symlink_to(Path(tiny_dataset_dir) / "clips")
    with pytest.raises(SeedVRError, match="no film-damage clip"):
        evaluate_detection(SHIPPED_DETECTOR, tmp_path / "manifest.csv", "test", 0.5, 0, (1.0,))
