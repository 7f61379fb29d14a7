"""Fused propagation: exact outside the holes, deterministic, the seam- and consensus-weighted mean of its hypotheses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from seedvr.errors import SeedVRError
from seedvr.metrics import psnr
from seedvr.ops.blending import BORDER_BLEND, blended, border_ring
from seedvr.ops.damage_regions import thick_detections
from seedvr.ops.flow import PairFlowMemo, estimate_video_flows
from seedvr.ops.fusion import (
    CARRIED_PATCH_FRAMES,
    CARRIED_PATCH_RADIUS,
    CARRIED_STRAY,
    FLOW_HYPOTHESES,
    FREE_REFINEMENT_DEPTH,
    REFINEMENT_TRUST,
    SEAM_FRAMES,
    SEAM_SPREAD,
    FusedPropagation,
    _bounded,
    _deep_in_holes,
    _spread_onto,
    consensus_weights,
    fused_propagation,
    seam_borders,
    seam_weight,
)
from seedvr.ops.propagation import propagation_guess
from seedvr.ops.seams import RingPredictions


@pytest.fixture(scope="module")
def damaged_clip(panning_clip):
    frames, masks = panning_clip
    damaged = frames.copy()
    damaged[masks] = 0
    return damaged, masks


@pytest.fixture(scope="module")
def fused(damaged_clip):
    return fused_propagation(*damaged_clip)


def test_the_default_hypothesis_comes_first_and_hypotheses_are_distinct():
    assert FLOW_HYPOTHESES[0] == ("farneback", 1.0, 9) and len(set(FLOW_HYPOTHESES)) == len(FLOW_HYPOTHESES)
    assert {estimator for estimator, _, _ in FLOW_HYPOTHESES} == {"farneback", "dis"}


def test_fused_guess_is_exact_outside_the_holes_and_deterministic(damaged_clip, fused):
    damaged, masks = damaged_clip
    assert fused.guess.dtype == np.uint8 and fused.guess.shape == damaged.shape
    np.testing.assert_array_equal(fused.guess[~masks], damaged[~masks])
    assert fused.validity[~masks].all()
    again = fused_propagation(damaged, masks)
    np.testing.assert_array_equal(again.guess, fused.guess)
    np.testing.assert_array_equal(again.validity, fused.validity)


def test_one_hypothesis_is_plain_propagation_with_its_flow(damaged_clip):
    damaged, masks = damaged_clip
    single = fused_propagation(damaged, masks, hypotheses=(("farneback", 1.0, 9),), refinements=0, blend=0)
    flows = estimate_video_flows(damaged, masks, max_side=256, dilation=9)
    guess, validity = propagation_guess(damaged, masks, flows=flows)
    np.testing.assert_array_equal(single.guess, guess)
    np.testing.assert_array_equal(single.validity, validity)
    np.testing.assert_array_equal(single.forward_flow, flows[0])


def test_fused_guess_is_the_seam_weighted_mean_and_validity_the_majority(damaged_clip):
    damaged, masks = damaged_clip
    hypotheses = (("farneback", 1.0, 2), ("farneback", 1.0, 5), ("farneback", 1.0, 9))
    parts = [propagation_guess(damaged, masks, flows=estimate_video_flows(damaged, masks, dilation=d)) for _, _, d in hypotheses]
    fused = fused_propagation(damaged, masks, hypotheses=hypotheses, refinements=0, blend=0)
    borders = seam_borders(damaged, masks)
    weights = np.stack([seam_weight(guess, borders)[masks] for guess, _ in parts])
    guesses = np.stack([guess[masks] for guess, _ in parts])
    weights = weights * consensus_weights(guesses, weights, masks)
    total = sum(weight[:, None] * guess.astype(np.float32) for weight, guess in zip(weights, guesses))
    mean = np.rint(total / weights.sum(axis=0)[:, None]).astype(np.uint8)
    np.testing.assert_array_equal(fused.guess[masks], mean)
    # The weights differ where the hypotheses' seams do: not the plain mean.
    plain = np.rint(np.mean([guess.astype(np.float32) for guess, _ in parts], axis=0)).astype(np.uint8)
    assert np.any(fused.guess[masks] != plain[masks])
    np.testing.assert_array_equal(fused.validity, np.sum([valid for _, valid in parts], axis=0) >= 2)
    # The flow handed on is the first hypothesis' one.
    np.testing.assert_array_equal(fused.backward_flow, estimate_video_flows(damaged, masks, dilation=2)[1])


def test_hypotheses_landing_on_one_working_size_keep_their_weight(damaged_clip):
    damaged, masks = damaged_clip
    # The clip is smaller than both working sizes: the two hypotheses are the same computation.
    twice = fused_propagation(damaged, masks, hypotheses=(("farneback", 1.0, 9), ("farneback", 1.5, 9), ("dis", 1.0, 2)))
    spelled = fused_propagation(damaged, masks, hypotheses=(("farneback", 1.0, 9), ("farneback", 1.0, 9), ("dis", 1.0, 2)))
    np.testing.assert_array_equal(twice.guess, spelled.guess)
    assert max(damaged.shape[1:3]) <= 256


def test_a_dis_hypothesis_propagates_along_the_dis_flow(damaged_clip):
    damaged, masks = damaged_clip
    flows = estimate_video_flows(damaged, masks, dilation=9, estimator="dis")
    single = fused_propagation(damaged, masks, hypotheses=(("dis", 1.0, 9),), refinements=0, blend=0)
    np.testing.assert_array_equal(single.guess, propagation_guess(damaged, masks, flows=flows)[0])
    farneback = estimate_video_flows(damaged, masks, dilation=9)
    assert not np.allclose(flows[0], farneback[0])
    # A memo shared across estimators hands each its own measurement, never the other's.
    memo = PairFlowMemo()
    fused_propagation(damaged, masks, hypotheses=(("farneback", 1.0, 9),), memo=memo, refinements=0)
    again = fused_propagation(damaged, masks, hypotheses=(("dis", 1.0, 9),), memo=memo, refinements=0, blend=0)
    np.testing.assert_array_equal(again.guess, single.guess)


def test_a_memo_keeps_each_estimators_last_pairs_apart(damaged_clip, flow_measurements):
    damaged, masks = damaged_clip
    both = (("farneback", 1.0, 9), ("dis", 1.0, 9))
    memo = PairFlowMemo(pairs=1)  # room for one pair per measurement: DIS must not evict Farneback's
    # The first pass only: refinements measure the fused repair, which no memo keeps.
    fused_propagation(damaged[:4], masks[:4], hypotheses=both, memo=memo, refinements=0)
    fused_propagation(damaged[2:], masks[2:], hypotheses=both, memo=memo, refinements=0)
    # Pairs (0,1)..(2,3), then (3,4)..(6,7): pair (2,3) is remembered for each estimator.
    # Both directions.
    assert sorted(flow_measurements) == ["dis"] * 2 * (3 + 4) + ["farneback"] * 2 * (3 + 4)


def test_an_unknown_flow_estimator_is_refused(damaged_clip):
    with pytest.raises(SeedVRError, match="unknown flow estimator 'raft'"):
        fused_propagation(*damaged_clip, hypotheses=(("raft", 1.0, 9),))


def test_a_fill_that_leaves_a_seam_weighs_less_than_one_that_continues_the_picture():
    # A horizontal ramp with a hole: the ramp's own values continue it, a constant does not.
    ramp = np.tile(np.linspace(0, 255, 48, dtype=np.float32).astype(np.uint8)[None, :, None], (40, 1, 3))
    frames = np.repeat(ramp[None], 2, axis=0)
    masks = np.zeros((2, 40, 48), dtype=bool)
    masks[:, 12:28, 16:32] = True
    right, wrong = frames.copy(), frames.copy()
    wrong[masks] = 128
    borders = seam_borders(frames, masks)
    right_weight, wrong_weight = seam_weight(right, borders), seam_weight(wrong, borders)
    assert np.all(right_weight[masks] > 0.7)
    assert np.all(wrong_weight[masks] <= right_weight[masks])
    # Near the hole's left and right sides the constant is far from the ramp.
    assert np.all(wrong_weight[:, 12:28, 16] < 0.1) and np.all(wrong_weight[:, 12:28, 31] < 0.1)
    np.testing.assert_array_equal(right_weight[~masks], 1.0)


def test_a_fill_that_predicts_the_ring_wrongly_weighs_less_though_its_hole_is_the_same():
    # Two fills alike inside the hole: the seam cannot tell them apart; the ring they predicted can.
    ramp = np.tile(np.linspace(0, 255, 48, dtype=np.float32).astype(np.uint8)[None, :, None], (40, 1, 3))
    frames = np.repeat(ramp[None], 2, axis=0)
    masks = np.zeros((2, 40, 48), dtype=bool)
    masks[:, 12:28, 16:32] = True
    ring = border_ring(masks)
    right, wrong = frames.copy(), frames.copy()
    wrong[ring] = 128
    borders, predictions = seam_borders(frames, masks), RingPredictions(frames, masks, ring, SEAM_SPREAD)
    np.testing.assert_array_equal(seam_weight(right, borders), seam_weight(wrong, borders))
    right_weight, wrong_weight = seam_weight(right, borders, predictions), seam_weight(wrong, borders, predictions)
    np.testing.assert_array_equal(right_weight, seam_weight(right, borders))  # a perfect ring costs nothing
    assert np.all(wrong_weight[masks] < right_weight[masks])
    # Near the ring's left and right sides the grey is far from the ramp.
    assert np.all(wrong_weight[:, 12:28, 16] < 1e-3 * right_weight[:, 12:28, 16])


def test_a_hypothesis_that_strays_from_the_others_weighs_less_around_where_it_strays():
    # Three hypotheses agree on a flat grey; a fourth carries a dark patch into part of the hole.
    filled = np.zeros((3, 16, 16), dtype=bool)
    filled[:, 2:14, 2:14] = True
    pixels = int(filled.sum())
    guesses = np.full((4, pixels, 3), 120, dtype=np.uint8)
    patch = np.zeros(filled.shape, dtype=bool)
    patch[:, 3:8, 3:8] = True
    guesses[3, patch[filled]] = 20
    factors = consensus_weights(guesses, np.ones((4, pixels), dtype=np.float32), filled)
    assert factors.shape == (4, pixels) and np.all(factors > 0) and np.all(factors <= 1)
    np.testing.assert_array_equal(factors[:3], 1.0)
    centre = np.zeros(filled.shape, dtype=bool)
    centre[:, 5, 5] = True
    assert factors[3, centre[filled]].max() < 0.01
    far = np.zeros(filled.shape, dtype=bool)
    far[1, 13, 13] = True
    assert factors[3, far[filled]][0] > 0.5 > factors[3, centre[filled]].max()
    # A patch in one frame is felt in the frames around it too (the weights do not flicker).
    once = np.full((4, pixels, 3), 120, dtype=np.uint8)
    once[3, (patch & (np.arange(3) == 1)[:, None, None])[filled]] = 20
    factors = consensus_weights(once, np.ones((4, pixels), dtype=np.float32), filled)
    np.testing.assert_allclose(factors[3, centre[filled]], factors[3, centre[filled]][0])
    assert factors[3, centre[filled]][0] < 0.5
    # Agreeing hypotheses keep their weights whatever they are.
    np.testing.assert_array_equal(consensus_weights(guesses[:3], np.ones((3, pixels), dtype=np.float32), filled), 1.0)


def test_where_every_hypothesis_strays_the_weights_stay_even():
    filled = np.ones((2, 8, 8), dtype=bool)
    guesses = np.stack([np.full((filled.sum(), 3), value, dtype=np.uint8) for value in (0, 60, 120, 180)])
    factors = consensus_weights(guesses, np.ones(guesses.shape[:2], dtype=np.float32), filled)
    # Distances to the median (60): 60, 0, 60, 120; their median 60 sets the scale (6 + 2 * 60).
    np.testing.assert_allclose(factors[:, 0], np.exp(-np.array([60.0, 0.0, 60.0, 120.0]) / 126.0), rtol=1e-5)
    assert factors.min() > 0.3


def test_the_fused_mean_keeps_no_faint_copy_of_what_one_hypothesis_carries_in(damaged_clip):
    damaged, masks = damaged_clip
    honest = fused_propagation(damaged, masks, hypotheses=(("farneback", 1.0, 9),) * 3, refinements=0, blend=0)
    carried = honest.guess.copy()
    carried[masks] = 0  # a hypothesis whose fill is a dark object everywhere in the holes
    guesses = np.stack([honest.guess[masks]] * 3 + [carried[masks]])
    weights = np.ones(guesses.shape[:2], dtype=np.float32)
    weights = weights * consensus_weights(guesses, weights, masks)
    fused = (weights[..., None] * guesses).sum(axis=0) / weights.sum(axis=0)[:, None]
    plain = guesses.astype(np.float32).mean(axis=0)
    truth = honest.guess[masks].astype(np.float32)
    assert np.abs(fused - truth).mean() < 0.1 * np.abs(plain - truth).mean()


def test_a_seam_counts_in_the_frames_around_it_so_the_weights_do_not_flicker():
    # A static hole over a ramp; the fill is wrong in frame 6 only.
    ramp = np.tile(np.linspace(0, 255, 48, dtype=np.float32).astype(np.uint8)[None, :, None], (40, 1, 3))
    frames = np.repeat(ramp[None], 2 * SEAM_FRAMES + 6, axis=0)
    masks = np.zeros((len(frames), 40, 48), dtype=bool)
    masks[:, 12:28, 16:32] = True
    fill = frames.copy()
    fill[6][masks[6]] = 128
    weight = seam_weight(fill, seam_borders(frames, masks))[:, 20, 16]
    first, last = 6 - SEAM_FRAMES, 6 + SEAM_FRAMES  # the frames that read frame 6's seam
    assert weight[first] < weight[first - 1] and weight[last] < weight[last + 1]
    assert weight[first - 1] == pytest.approx(weight[-1]) and weight[0] == pytest.approx(weight[-1])


def test_a_refinement_propagates_along_the_flow_measured_on_the_fused_repair(damaged_clip):
    damaged, masks = damaged_clip
    single = (("farneback", 1.0, 9),)
    first = fused_propagation(damaged, masks, hypotheses=single, refinements=0, blend=0)
    refined = fused_propagation(damaged, masks, hypotheses=single, refinements=1, blend=0)
    flows = estimate_video_flows(first.guess, None, max_side=256)
    guess, _ = propagation_guess(damaged, masks, flows=flows)
    np.testing.assert_array_equal(refined.forward_flow, flows[0])
    np.testing.assert_array_equal(refined.guess[~masks], damaged[~masks])
    # Close to the first pass the refined pixel stands; far from it, inside a patch it carried in
    # or deep in a hole, the first pass does.
    trusted, distrusted = REFINEMENT_TRUST
    difference = np.abs(guess.astype(int) - first.guess.astype(int)).max(axis=-1)
    near = masks & (difference <= trusted)
    assert near.any() and np.any(refined.guess[masks] != first.guess[masks])
    np.testing.assert_array_equal(refined.guess[near], guess[near])
    carried = np.stack([thick_detections(frame > CARRIED_STRAY, CARRIED_PATCH_RADIUS) for frame in difference])
    depth = np.stack([cv2.distanceTransform(holes.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) for holes in masks])
    reach = CARRIED_PATCH_FRAMES
    carried = np.stack([carried[max(0, index - reach) : index + reach + 1].any(axis=0) for index in range(len(carried))])
    held = carried | (depth > FREE_REFINEMENT_DEPTH)
    np.testing.assert_array_equal(refined.guess[~held], guess[~held])
    far = held & (difference >= distrusted)
    np.testing.assert_array_equal(refined.guess[far], first.guess[far])


NO_HOLES = np.zeros((1, 32, 32), bool)


def _straying(*strays: tuple[int, int, int, int, int]) -> tuple[FusedPropagation, FusedPropagation]:
    """A first pass of grey 100 and a refinement that strays from it on one channel, in each
    ``(top, left, height, width, levels)`` rectangle."""
    anchor = FusedPropagation(np.full((1, 32, 32, 3), 100, np.uint8), np.zeros((1, 32, 32), bool), None, None)
    refined_guess = anchor.guess.copy()
    for top, left, height, width, stray in strays:
        refined_guess[0, top : top + height, left : left + width, 1] += stray
    return FusedPropagation(refined_guess, np.ones((1, 32, 32), bool), None, None), anchor


def test_a_patch_the_refinement_carries_in_is_pulled_back_toward_the_first_pass_by_how_far_it_strays():
    # No hole: the strays lie on the ring of known pixels around one, where depth plays no part.
    bounded = _bounded(*_straying((2, 2, 9, 9, 90), (2, 20, 9, 9, 40), (20, 2, 9, 9, 20)), _deep_in_holes(NO_HOLES))
    # Trust (48 - stray) / 32 within [0, 1], inside each 9x9 patch: 0, 1/4, 1 (a stray of 20 is no patch).
    assert bounded.guess[0, 6, 6, 1] == 100 and bounded.guess[0, 6, 24, 1] == 110 and bounded.guess[0, 24, 6, 1] == 120
    assert np.all(bounded.guess[..., 0] == 100)
    assert bounded.validity[0, 6, 6] == bounded.validity[0, 6, 24] == False  # noqa: E712 (numpy bools)
    assert bounded.validity[0, 24, 6] and bounded.validity[0, 30, 30]


def test_a_thin_or_small_correction_stands_however_far_it_strays():
    # A line two pixels wide down the frame and a 3x3 speck: no pixel of either is 3 px from its edge.
    refined, anchor = _straying((0, 14, 32, 2, 90), (4, 4, 3, 3, 120))
    bounded = _bounded(refined, anchor, _deep_in_holes(NO_HOLES))
    np.testing.assert_array_equal(bounded.guess, refined.guess)
    assert bounded.validity.all()


def test_a_carried_patch_bounds_its_place_in_the_frames_around_it():
    # A patch straying 90 levels in the middle frame; the same place strays 24 levels in every
    # other frame (no patch there by itself): held there by its stray, trust (48 - 24) / 32,
    # within CARRIED_PATCH_FRAMES of the patch's frame, standing as refined beyond.
    frames = 2 * CARRIED_PATCH_FRAMES + 3
    refined, anchor = (fused._replace(guess=np.repeat(fused.guess, frames, axis=0)) for fused in _straying((2, 2, 9, 9, 24)))
    middle = frames // 2
    refined.guess[middle, 2:11, 2:11, 1] = 190
    bounded = _bounded(refined, anchor, np.zeros((frames, 32, 32), bool))
    expected = np.where(np.abs(np.arange(frames) - middle) <= CARRIED_PATCH_FRAMES, 118, 124)
    expected[middle] = 100
    np.testing.assert_array_equal(bounded.guess[:, 6, 6, 1], expected)
    assert expected[0] == expected[-1] == 124


def test_deeper_in_a_hole_than_the_free_depth_the_refinement_is_held_near_the_first_pass():
    # A checkerboard stray of 40 levels (no pixel of it 3 px from its edge: no carried patch)
    # over a 28x28 hole: trusted within 12 px of the hole's border, a quarter of it deeper in.
    assert FREE_REFINEMENT_DEPTH == 12.0
    refined, anchor = _straying()
    checker = (np.indices((32, 32)).sum(axis=0) % 2 == 0)[None]
    refined.guess[..., 1][checker] += 40
    holes = np.zeros((1, 32, 32), bool)
    holes[0, 2:30, 2:30] = True
    bounded = _bounded(refined, anchor, _deep_in_holes(holes))
    assert bounded.guess[0, 16, 16, 1] == 110 and bounded.guess[0, 7, 7, 1] == 140 and bounded.guess[0, 0, 0, 1] == 140
    assert bounded.guess[0, 16, 17, 1] == 100 == bounded.guess[0, 16, 16, 0]


def test_a_negative_number_of_refinements_and_a_blend_outside_0_1_are_refused(damaged_clip):
    with pytest.raises(SeedVRError, match="refinements must be 0 or more, got -1"):
        fused_propagation(*damaged_clip, refinements=-1)
    with pytest.raises(SeedVRError, match=r"blend must be in \[0, 1\], got 1.5"):
        fused_propagation(*damaged_clip, blend=1.5)


def test_the_fused_fill_is_blended_last_with_the_ring_its_hypotheses_propagated_into(damaged_clip):
    damaged, masks = damaged_clip
    single = (("farneback", 1.0, 9),)
    plain = fused_propagation(damaged, masks, hypotheses=single, refinements=0, blend=0)
    fused = fused_propagation(damaged, masks, hypotheses=single, refinements=0)
    assert plain.border_fill is None
    ring = border_ring(masks)
    with_ring, _ = propagation_guess(damaged, masks, flows=estimate_video_flows(damaged, masks, dilation=9), border=ring)
    np.testing.assert_array_equal(fused.border_fill[ring], with_ring[ring])
    np.testing.assert_array_equal(fused.border_fill[~ring], plain.guess[~ring])
    np.testing.assert_array_equal(fused.guess, blended(plain.guess, damaged, masks, fused.border_fill, BORDER_BLEND))
    np.testing.assert_array_equal(fused.validity, plain.validity)
    assert np.any(fused.guess[masks] != plain.guess[masks])


def test_a_ring_pixel_weighs_each_hypothesis_like_the_hole_pixels_it_touches():
    masks = np.zeros((1, 5, 6), dtype=bool)
    masks[0, 1:4, 1:3] = True
    weight = np.zeros((1, 5, 6), dtype=np.float32)
    weight[0, 1:4, 1] = 1.0
    weight[0, 1:4, 2] = 0.5
    ring = border_ring(masks)
    spread = _spread_onto(weight, masks, ring)
    assert spread[0, 2, 0] == pytest.approx(1.0) and spread[0, 2, 3] == pytest.approx(0.5)
    assert spread[0, 0, 0] == pytest.approx(1.0) and spread[0, 0, 1] == pytest.approx(0.75)
    np.testing.assert_array_equal(spread[~ring], weight[~ring])


def test_each_refinement_brings_the_guess_of_a_pan_closer_to_the_clean_clip(panning_clip, damaged_clip):
    # The completed flow across the hole is the first pass's error; measured on the repair it
    # follows the pan (on this clip: 30.6, 34.9 and 35.9 dB inside the holes after 0, 1, 2
    # passes; 35.5 and 39.5 if the refined pixels were not held near the first pass).
    clean, masks = panning_clip
    scores = [psnr(fused_propagation(*damaged_clip, refinements=count, blend=0).guess, clean, masks) for count in (0, 1, 2)]
    assert scores[0] + 3.0 < scores[1] and scores[1] + 0.5 < scores[2], scores


def test_propagation_runs_beside_the_flow_work_and_its_errors_reach_the_caller(damaged_clip, monkeypatch):
    import threading

    import seedvr.ops.fusion as fusion

    damaged, masks = damaged_clip
    threads = []

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return propagation_guess(*args, **kwargs)

    monkeypatch.setattr(fusion, "propagation_guess", recorded)
    hypotheses = (("farneback", 1.0, 2), ("farneback", 1.0, 9))
    fusion.fused_propagation(damaged, masks, hypotheses=hypotheses, refinements=1)
    assert len(threads) == 3 and all(name.startswith("seedvr-propagation") for name in threads)

    def failing(*args, **kwargs):
        raise SeedVRError("propagation failed")

    monkeypatch.setattr(fusion, "propagation_guess", failing)
    with pytest.raises(SeedVRError, match="propagation failed"):
        fusion.fused_propagation(damaged, masks, hypotheses=hypotheses)


def test_on_the_cpu_the_propagation_gets_half_the_cores_and_the_count_is_restored(damaged_clip, monkeypatch):
    import os

    import torch

    import seedvr.ops.fusion as fusion

    damaged, masks = damaged_clip
    counts = []

    def recorded(*args, **kwargs):
        counts.append(torch.get_num_threads())
        return propagation_guess(*args, **kwargs)

    monkeypatch.setattr(fusion, "propagation_guess", recorded)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(6)
    try:
        hypotheses = (("farneback", 1.0, 2), ("farneback", 1.0, 9))
        with_half = fusion.fused_propagation(damaged, masks, hypotheses=hypotheses, refinements=0)
        assert counts == [4, 4] and torch.get_num_threads() == 6
        torch.set_num_threads(1)
        with_one = fusion.fused_propagation(damaged, masks, hypotheses=hypotheses, refinements=0)
        assert counts[2:] == [1, 1] and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(with_half.guess, with_one.guess)  # the count changes the speed only
