"""The promotion gates on hand-written metrics documents (inputs, not results).

Each gate is shown to reject a document that fails only that gate, with one sentence holding
the numbers; a document passing every gate is promoted. The untrained model evaluated for real
is in ``test_untrained_model_gates.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from registry_helpers import metrics_doc, metrics_of

from seedvr.config import RegisterParams, load_params
from seedvr.errors import SeedVRError
from seedvr.evaluate.metrics_file import EvaluationMetrics
from seedvr.registry.promotion import ChampionEvaluation, best_baseline, decide_promotion

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BASELINES = {"propagate": (23.0, 0.020), "telea": (22.3, 0.030), "ns": (21.0, 0.031)}
GATES = RegisterParams(min_gain_over_propagate_db=0.05, max_kind_regression_db=0.5)


def verdicts(decision) -> list[str]:
    return [reason.split(":")[0] for reason in decision.reasons]


def test_candidate_passing_every_gate_is_promoted_without_champion():
    decision = decide_promotion(metrics_of((24.1, 0.018), BASELINES), GATES)
    assert decision.promote
    assert verdicts(decision) == ["pass", "pass", "pass", "pass", "no champion yet"]
    assert decision.reasons[0] == (
        "pass: psnr_mask 24.100 dB vs propagate 23.000 dB (the model's starting point): gain +1.100 dB >= required 0.050 dB"
    )
    assert decision.reasons[1] == (
        "pass: psnr_mask within 0.50 dB of the best other method on all clips and 2 damage kinds: "
        "lowest all clips 24.10 dB vs propagate 23.00 dB (+1.10 dB)"
    )
    assert decision.reasons[2] == "pass: ewarp_mask 0.0180 vs propagate 0.0200: excess -0.0020 <= allowed 0.0000"
    assert decision.reasons[3] == "pass: evaluated with the model's own 20 sampling steps, as batch repair runs it"
    assert decision.reasons[4] == "no champion yet: the champion gate does not apply"
    assert decision.candidate["baseline"] == "propagate" and decision.candidate["propagate_psnr_mask"] == 23.0
    assert decision.champion is None


# -- gate 1: a positive margin over propagate ---------------------------------------------------


def test_a_tie_with_propagate_fails_only_the_propagate_gate():
    # What an untrained pipeline scores: exactly propagate's figures.
    decision = decide_promotion(metrics_of((23.0, 0.020), BASELINES), GATES)
    assert not decision.promote
    assert verdicts(decision) == ["fail", "pass", "pass", "pass", "no champion yet"]
    assert decision.reasons[0] == (
        "fail: psnr_mask 23.000 dB vs propagate 23.000 dB (the model's starting point): gain +0.000 dB < required 0.050 dB"
    )


def test_a_gain_under_the_margin_fails_only_the_propagate_gate():
    decision = decide_promotion(metrics_of((23.03, 0.020), BASELINES), GATES)
    assert verdicts(decision) == ["fail", "pass", "pass", "pass", "no champion yet"]
    assert "gain +0.030 dB < required 0.050 dB" in decision.reasons[0]
    lower = GATES.model_copy(update={"min_gain_over_propagate_db": 0.02})
    assert decide_promotion(metrics_of((23.03, 0.020), BASELINES), lower).promote


def test_the_propagate_gate_compares_with_propagate_even_when_another_baseline_is_best():
    # telea is the best classical method, yet the margin is over propagate (the starting point);
    # telea's lead is judged by the per-kind gate and its tolerance.
    baselines = {"propagate": (22.0, 0.020), "telea": (23.2, 0.030)}
    decision = decide_promotion(metrics_of((23.0, 0.018), baselines), GATES)
    assert decision.promote
    assert decision.reasons[0].startswith("pass: psnr_mask 23.000 dB vs propagate 22.000 dB")
    assert decision.candidate["baseline"] == "telea"
    assert "lowest all clips 23.00 dB vs telea 23.20 dB (-0.20 dB)" in decision.reasons[1]


def test_the_margin_must_be_positive_in_the_schema_and_in_the_repository_params(tmp_path):
    assert load_params(PROJECT_ROOT / "params.yaml").register_.min_gain_over_propagate_db > 0
    assert RegisterParams().min_gain_over_propagate_db > 0
    for margin in (0.0, -0.1):
        with pytest.raises(ValueError, match="greater than 0"):
            RegisterParams(min_gain_over_propagate_db=margin)
    zero = tmp_path / "params.yaml"
    zero.write_text(yaml.safe_dump({"register": {"min_gain_over_propagate_db": 0.0}}))
    with pytest.raises(SeedVRError, match="register.min_gain_over_propagate_db: Input should be greater than 0"):
        load_params(zero)


def test_the_old_gate_name_is_refused_with_its_replacement(tmp_path):
    old = tmp_path / "params.yaml"
    old.write_text(yaml.safe_dump({"register": {"min_gain_psnr_mask_db": 0.0}}))
    with pytest.raises(SeedVRError, match="replaced by min_gain_over_propagate_db"):
        load_params(old)


def test_the_repository_evaluates_with_the_models_own_steps():
    # evaluate.steps null: the model's num_inference_steps, what batch repair ships.
    assert load_params(PROJECT_ROOT / "params.yaml").evaluate.steps is None


# -- gate 2: no damage kind left behind ----------------------------------------------------------


def test_a_regression_on_one_damage_kind_fails_only_the_kind_gate():
    kinds = {
        "scratch": {"seedvr": 25.0, "propagate": 23.0, "telea": 22.0, "ns": 21.0},
        "logo": {"seedvr": 20.0, "propagate": 20.4, "telea": 21.0, "ns": 19.0},
    }
    decision = decide_promotion(metrics_of((24.1, 0.018), BASELINES, kinds=kinds), GATES)
    assert not decision.promote
    assert verdicts(decision) == ["pass", "fail", "pass", "pass", "no champion yet"]
    assert decision.reasons[1] == (
        "fail: psnr_mask below the best other method by more than allowed 0.50 dB on logo 20.00 dB vs telea 21.00 dB (-1.00 dB)"
    )
    tolerant = GATES.model_copy(update={"max_kind_regression_db": 1.0})
    assert decide_promotion(metrics_of((24.1, 0.018), BASELINES, kinds=kinds), tolerant).promote


def test_the_kind_gate_fails_on_an_undefined_figure_and_skips_kinds_nobody_else_measured():
    undefined = {"scratch": {"seedvr": None, "propagate": 23.0}}
    decision = decide_promotion(metrics_of((24.1, 0.018), BASELINES, kinds=undefined), GATES)
    assert verdicts(decision)[1] == "fail" and "scratch nan dB vs propagate 23.00 dB" in decision.reasons[1]
    alone = {"scratch": {"seedvr": 10.0}, "logo": {"seedvr": 24.0, "propagate": 23.0, "telea": 22.0}}
    decision = decide_promotion(metrics_of((24.1, 0.018), BASELINES, kinds=alone), GATES)
    assert decision.promote
    assert "on all clips and 1 damage kind:" in decision.reasons[1]


# -- gate 3: temporal consistency inside the mask -------------------------------------------------


def test_worse_in_mask_temporal_consistency_fails_only_the_temporal_gate():
    candidate = metrics_of((24.1, 0.025), BASELINES)
    rejected = decide_promotion(candidate, GATES)
    assert not rejected.promote
    assert verdicts(rejected) == ["pass", "pass", "fail", "pass", "no champion yet"]
    assert rejected.reasons[2] == "fail: ewarp_mask 0.0250 vs propagate 0.0200: excess +0.0050 > allowed 0.0000"
    assert decide_promotion(candidate, GATES.model_copy(update={"max_ewarp_regression": 0.01})).promote


def test_the_temporal_gate_uses_the_in_mask_figure_not_the_whole_frame():
    document = metrics_doc((24.1, 0.018), BASELINES)
    document["methods"]["seedvr"]["ewarp"] = 9.0  # whole frame: informative, not gated
    document["methods"]["seedvr"]["ewarp_mask"] = 0.5
    decision = decide_promotion(EvaluationMetrics.from_document(document, "candidate"), GATES)
    assert verdicts(decision)[2] == "fail" and "ewarp_mask 0.5000 vs propagate 0.0200" in decision.reasons[2]


def test_an_undefined_in_mask_temporal_metric_fails_safe():
    decision = decide_promotion(metrics_of((24.1, None), BASELINES), GATES)
    assert not decision.promote
    assert "ewarp_mask cannot be compared" in decision.reasons[2]


# -- gate 4: the sampler batch repair ships --------------------------------------------------------


def test_an_evaluation_with_other_steps_than_the_model_ships_fails_only_the_sampler_gate():
    decision = decide_promotion(metrics_of((24.1, 0.018), BASELINES, steps=4, model_steps=20), GATES)
    assert not decision.promote
    assert verdicts(decision) == ["pass", "pass", "pass", "fail", "no champion yet"]
    assert decision.reasons[3] == (
        "fail: evaluated with 4 sampling steps but the model ships 20 (what batch repair runs): "
        "re-run the evaluation with evaluate.steps null"
    )
    unrecorded = decide_promotion(metrics_of((24.1, 0.018), BASELINES, steps=None, model_steps=None), GATES)
    assert not unrecorded.promote and "does not record its sampling steps" in unrecorded.reasons[3]


# -- gate 5: the champion --------------------------------------------------------------------------


def test_champion_gate_uses_the_tolerance():
    candidate = metrics_of((24.1, 0.018), BASELINES)
    champion = ChampionEvaluation(metrics_of((24.5, 0.017), {}), version=3)
    rejected = decide_promotion(candidate, GATES, champion)
    assert not rejected.promote
    assert verdicts(rejected) == ["pass", "pass", "pass", "pass", "fail"]
    assert rejected.reasons[4] == "fail: psnr_mask 24.10 dB vs champion v3 24.50 dB: difference -0.40 dB < allowed -0.00 dB"
    accepted = decide_promotion(candidate, GATES.model_copy(update={"champion_tolerance_db": 0.5}), champion)
    assert accepted.promote
    assert accepted.champion == {"version": 3, "psnr_mask": 24.5, "ewarp": 0.017}


def test_champion_from_another_evaluation_set_is_refused():
    candidate = metrics_of((24.1, 0.018), BASELINES, clips=2)
    champion = ChampionEvaluation(metrics_of((24.0, 0.018), {}, clips=5))
    with pytest.raises(SeedVRError, match="another evaluation set"):
        decide_promotion(candidate, GATES, champion)


# -- malformed documents and the one baseline rule ----------------------------------------------------


def _without(*path: str) -> dict:
    """A passing document with the entry at ``path`` (keys from the top) removed."""
    document = metrics_doc((24.1, 0.018), BASELINES)
    *parents, key = path
    holder = document
    for parent in parents:
        holder = holder[parent]
    del holder[key]
    return document


def _with_figure(value) -> dict:
    document = metrics_doc((24.1, 0.018), BASELINES)
    document["methods"]["seedvr"]["psnr_mask"] = value
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"split": "test"}, "clips: Field required"),
        ([1, 2], "Input should be a valid dictionary"),
        (_with_figure("high"), "methods.seedvr.psnr_mask: Input should be a valid number"),
        (_with_figure(True), "methods.seedvr.psnr_mask: Input should be a valid number"),
        (_without("methods", "seedvr", "per_kind"), "methods.seedvr.per_kind: Field required"),
        # An evaluation from before the in-mask temporal metric: re-run it rather than guess.
        (_without("methods", "seedvr", "ewarp_mask"), "methods.seedvr.ewarp_mask: Field required"),
        ({**metrics_doc((24.1, 0.018), BASELINES), "model_version": 3}, "model_version: Extra inputs are not permitted"),
    ],
)
def test_a_document_that_is_not_an_evaluations_metrics_is_one_line(document, message):
    with pytest.raises(SeedVRError, match=f"^candidate is not an evaluation's metrics.json: {message}"):
        EvaluationMetrics.from_document(document, "candidate")


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        (metrics_of((24.1, 0.018), {}), "no method propagate: was propagate evaluated"),
        (metrics_of((24.1, 0.018), {"telea": (22.0, 0.02)}), "no method propagate"),
        (EvaluationMetrics.from_document(_without("methods", "seedvr"), "candidate"), "no method seedvr"),
    ],
)
def test_metrics_without_the_methods_the_gates_compare_are_one_line(metrics, message):
    with pytest.raises(SeedVRError, match=message):
        decide_promotion(metrics, GATES)


def test_baseline_ties_go_to_the_method_listed_first_as_in_the_evaluations_gains():
    from seedvr.evaluate.summary import compute_gains

    document = metrics_doc((24.0, 0.01), {"telea": (22.0, 0.03), "ns": (22.0, 0.02)})
    assert best_baseline(EvaluationMetrics.from_document(document, "candidate")) == ("telea", 22.0, 0.03)
    # One rule: the evaluation's gains name the same method from the same figures.
    assert compute_gains(document["methods"])["baseline"] == "telea"
    reordered = metrics_doc((24.0, 0.01), {"ns": (22.0, 0.02), "telea": (22.0, 0.03)})
    assert best_baseline(EvaluationMetrics.from_document(reordered, "candidate"))[0] == "ns"
    assert compute_gains(reordered["methods"])["baseline"] == "ns"


def test_gates_reject_negative_thresholds():
    for field in ("max_kind_regression_db", "max_ewarp_regression", "champion_tolerance_db"):
        with pytest.raises(ValueError):
            RegisterParams(**{field: -0.1})
