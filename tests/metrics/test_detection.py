"""Per-pixel detection scores: one pixel of tolerance, strict IoU, flagged fraction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.metrics.detection import detection_scores


def _square(top: int, left: int, size: int = 4) -> np.ndarray:
    mask = np.zeros((2, 16, 16), dtype=bool)
    mask[:, top : top + size, left : left + size] = True
    return mask


def test_a_perfect_detection_scores_one():
    truth = _square(4, 4)
    scores = detection_scores(truth, truth)
    assert (scores.precision, scores.recall, scores.iou) == (1.0, 1.0, 1.0)
    assert scores.flagged_fraction == pytest.approx(32 / 512)


def test_one_pixel_off_is_forgiven_by_the_tolerance_but_not_by_iou():
    truth, shifted = _square(4, 4), _square(4, 5)
    tolerant = detection_scores(shifted, truth)
    assert tolerant.precision == 1.0 and tolerant.recall == 1.0
    assert tolerant.iou == pytest.approx(12 / 20)
    strict = detection_scores(shifted, truth, tolerance=0)
    assert strict.precision == pytest.approx(0.75) and strict.recall == pytest.approx(0.75)


def test_false_positives_far_away_lower_precision_only():
    truth = _square(2, 2)
    predicted = truth | _square(10, 10)
    scores = detection_scores(predicted, truth)
    assert scores.recall == 1.0 and scores.precision == pytest.approx(0.5)


def test_a_clean_clip_has_no_precision_or_recall_but_a_flagged_fraction():
    truth = np.zeros((2, 16, 16), dtype=bool)
    predicted = truth.copy()
    predicted[0, 0, :5] = True
    scores = detection_scores(predicted, truth)
    assert math.isnan(scores.recall) and scores.precision == 0.0
    assert scores.flagged_fraction == pytest.approx(5 / 512)


def test_shapes_must_match():
    with pytest.raises(SeedVRError, match="shape"):
        detection_scores(np.zeros((2, 4, 4), bool), np.zeros((2, 4, 5), bool))
