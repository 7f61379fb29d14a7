"""The weighted median of flow hypotheses and the spread of a measure within a region."""

from __future__ import annotations

import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.ops import consensus
from seedvr.ops.consensus import spread_within, weighted_median


def _median_by_hand(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    hypotheses, pixels, channels = values.shape
    median = np.empty((pixels, channels), dtype=np.float32)
    for pixel in range(pixels):
        for channel in range(channels):
            order = np.argsort(values[:, pixel, channel], kind="stable")
            cumulative = np.cumsum(weights[order, pixel])
            median[pixel, channel] = values[order[np.searchsorted(cumulative, cumulative[-1] / 2.0)], pixel, channel]
    return median


def test_the_weighted_median_is_the_value_where_half_the_weight_is_reached():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 256, size=(7, 40, 3)).astype(np.uint8)
    weights = rng.uniform(0.01, 1.0, size=(7, 40)).astype(np.float32)
    np.testing.assert_array_equal(weighted_median(values, weights), _median_by_hand(values, weights))
    # Equal weights, odd count: the plain median.
    np.testing.assert_array_equal(weighted_median(values, np.ones((7, 40))), np.median(values, axis=0))
    # A hypothesis holding most of the weight is the median.
    heavy = weights.copy()
    heavy[4] = 100.0
    np.testing.assert_array_equal(weighted_median(values, heavy), values[4])


def test_the_median_taken_in_chunks_is_the_whole_one(monkeypatch):
    rng = np.random.default_rng(1)
    values = rng.integers(0, 256, size=(5, 101, 3)).astype(np.uint8)
    weights = rng.uniform(0.01, 1.0, size=(5, 101)).astype(np.float32)
    whole = weighted_median(values, weights)
    monkeypatch.setattr(consensus, "_MEDIAN_CHUNK", 7)
    np.testing.assert_array_equal(weighted_median(values, weights), whole)


def test_a_median_of_mismatched_or_no_hypotheses_is_refused():
    with pytest.raises(SeedVRError, match="values must be"):
        weighted_median(np.zeros((3, 4, 3)), np.ones((3, 5)))
    with pytest.raises(SeedVRError, match="values must be"):
        weighted_median(np.zeros((3, 4)), np.ones((3, 4)))
    with pytest.raises(SeedVRError, match="at least one"):
        weighted_median(np.zeros((0, 4, 3)), np.ones((0, 4)))


def test_a_spread_averages_inside_the_region_only():
    region = np.zeros((2, 16, 16), dtype=bool)
    region[0, 4:12, 4:12] = True
    values = np.full(region.shape, 500.0, dtype=np.float32)  # outside the region: never read
    values[region] = 3.0
    spread = spread_within(values, region, 2.0)
    np.testing.assert_allclose(spread[region], 3.0, rtol=1e-5)
    np.testing.assert_array_equal(spread[~region], 0.0)
    # A single high pixel is shared with its neighbours, less with the far ones.
    values[0, 5, 5] = 103.0
    spread = spread_within(values, region, 2.0)
    assert spread[0, 5, 5] > spread[0, 6, 6] > spread[0, 10, 10] >= 3.0


def test_a_spread_of_another_shape_or_not_positive_is_refused():
    region = np.ones((1, 4, 4), dtype=bool)
    with pytest.raises(SeedVRError, match="shape"):
        spread_within(np.zeros((1, 4, 5), dtype=np.float32), region, 2.0)
    with pytest.raises(SeedVRError, match="positive"):
        spread_within(np.zeros((1, 4, 4), dtype=np.float32), region, 0.0)
