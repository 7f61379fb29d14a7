"""The promotion gates on hand-written metrics documents (inputs, not results)."""

from __future__ import annotations

import pytest
from registry_helpers import metrics_doc

from seedvr.config import RegisterParams
from seedvr.errors import SeedVRError
from seedvr.registry.promotion import best_baseline, decide_promotion

BASELINES = {"propagate": (23.0, 0.020), "telea": (22.3, 0.030), "ns": (21.0, 0.031)}


def test_candidate_beating_the_best_baseline_is_promoted_without_champion():
    decision = decide_promotion(metrics_doc((24.1, 0.018), BASELINES), RegisterParams())
    assert decision.promote
    assert decision.candidate["baseline"] == "propagate"
    assert decision.champion is None
    assert decision.reasons[0].startswith("pass: psnr_mask 24.10 dB vs best baseline propagate 23.00 dB: gain +1.10 dB")
    assert decision.reasons[1].startswith("pass: ewarp 0.0180 vs propagate 0.0200")
    assert "no champion" in decision.reasons[2]


def test_margin_not_reached_rejects_with_the_numbers():
    gates = RegisterParams(min_gain_psnr_mask_db=1.5)
    decision = decide_promotion(metrics_doc((24.1, 0.018), BASELINES), gates)
    assert not decision.promote
    assert decision.reasons[0] == (
        "fail: psnr_mask 24.10 dB vs best baseline propagate 23.00 dB: gain +1.10 dB < required 1.50 dB"
    )


def test_worse_temporal_consistency_rejects_unless_allowed():
    candidate = metrics_doc((24.1, 0.025), BASELINES)
    rejected = decide_promotion(candidate, RegisterParams())
    assert not rejected.promote
    assert rejected.reasons[1] == "fail: ewarp 0.0250 vs propagate 0.0200: excess +0.0050 > allowed 0.0000"
    assert decide_promotion(candidate, RegisterParams(max_ewarp_regression=0.01)).promote


def test_champion_gate_uses_the_tolerance():
    candidate = metrics_doc((24.1, 0.018), BASELINES)
    champion = {**metrics_doc((24.5, 0.017), {}), "model_version": 3}
    rejected = decide_promotion(candidate, RegisterParams(), champion)
    assert not rejected.promote
    assert rejected.reasons[2] == "fail: psnr_mask 24.10 dB vs champion v3 24.50 dB: difference -0.40 dB < allowed -0.00 dB"
    accepted = decide_promotion(candidate, RegisterParams(champion_tolerance_db=0.5), champion)
    assert accepted.promote
    assert accepted.champion == {"version": 3, "psnr_mask": 24.5, "ewarp": 0.017}


def test_missing_temporal_metric_fails_safe():
    decision = decide_promotion(metrics_doc((24.1, None), BASELINES), RegisterParams())
    assert not decision.promote
    assert "ewarp cannot be compared" in decision.reasons[1]


def test_champion_from_another_evaluation_set_is_refused():
    candidate = metrics_doc((24.1, 0.018), BASELINES, clips=2)
    champion = metrics_doc((24.0, 0.018), {}, clips=5)
    with pytest.raises(SeedVRError, match="another evaluation set"):
        decide_promotion(candidate, RegisterParams(), champion)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"split": "test"}, "no 'methods' section"),
        (metrics_doc((24.1, 0.018), {}), "no classical baseline"),
        ({"methods": {"telea": {"psnr_mask": 22.0, "ewarp": 0.02}}}, "methods.seedvr.psnr_mask"),
        (metrics_doc(("high", 0.018), BASELINES), "not a number"),
    ],
)
def test_malformed_metrics_are_one_line_errors(document, message):
    with pytest.raises(SeedVRError, match=message):
        decide_promotion(document, RegisterParams())


def test_baseline_ties_go_to_the_method_listed_first():
    # Same rule as the evaluation's `gains.baseline`.
    document = metrics_doc((24.0, 0.01), {"telea": (22.0, 0.03), "ns": (22.0, 0.02)})
    assert best_baseline(document) == ("telea", 22.0, 0.03)


def test_gates_reject_negative_thresholds():
    with pytest.raises(ValueError):
        RegisterParams(max_ewarp_regression=-0.1)
