"""A gate must be able to fail: the untrained model, evaluated for real, is never promoted.

``SeedVRPipeline.from_preset("tiny")`` has zero-initialised residual branches, so it returns
its propagation guess exactly: on real clips it ties ``propagate`` and the repository's own
gates (``params.yaml``) must reject it, naming the propagate gate. The evaluation runs as the
pipeline's evaluate stage does (``evaluate.steps`` null: the model's own sampling steps).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seedvr.config import load_params
from seedvr.evaluate.metrics_file import EvaluationMetrics
from seedvr.registry.promotion import decide_promotion

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def untrained_evaluation(tiny_pipeline_dir: str, tiny_dataset_dir: str, tmp_path_factory) -> EvaluationMetrics:
    from seedvr.evaluate import evaluate_dataset

    settings = load_params(PROJECT_ROOT / "params.yaml").evaluate
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: one intra-op thread is faster here
    try:
        result = evaluate_dataset(
            model=tiny_pipeline_dir,
            data_dir=tiny_dataset_dir,
            split="test",
            methods=settings.methods,
            out_dir=tmp_path_factory.mktemp("untrained-eval") / "eval",
            steps=settings.steps,
            seed=settings.seed,
            strips=0,
            max_clips=3,
        )
    finally:
        torch.set_num_threads(previous)
    return result.metrics


def test_the_untrained_model_ties_propagate_on_real_clips(untrained_evaluation: EvaluationMetrics, tiny_pipeline_dir: str):
    from seedvr.evaluate.runner import model_sampling_steps

    seedvr, propagate = untrained_evaluation.methods["seedvr"], untrained_evaluation.methods["propagate"]
    assert untrained_evaluation.clips == 3
    # It ran the sampler batch repair ships: the model's own steps.
    shipped = model_sampling_steps(tiny_pipeline_dir)
    assert untrained_evaluation.sampler.steps == untrained_evaluation.sampler.model_steps == shipped
    assert (seedvr.psnr_mask, seedvr.ewarp, seedvr.ewarp_mask) == (propagate.psnr_mask, propagate.ewarp, propagate.ewarp_mask)
    for kind, figures in seedvr.per_kind.items():
        assert figures.psnr_mask == propagate.per_kind[kind].psnr_mask, kind


def test_the_untrained_model_is_not_promoted_by_the_repository_gates(untrained_evaluation: EvaluationMetrics) -> None:
    gates = load_params(PROJECT_ROOT / "params.yaml").register_
    decision = decide_promotion(untrained_evaluation, gates)
    assert not decision.promote
    propagate = untrained_evaluation.methods["propagate"].psnr_mask
    assert decision.reasons[0] == (
        f"fail: psnr_mask {propagate:.3f} dB vs propagate {propagate:.3f} dB (the model's starting point): "
        f"gain +0.000 dB < required {gates.min_gain_over_propagate_db:.3f} dB"
    )
    # The other gates judge it on their own terms: the tie is what rejects it.
    assert decision.reasons[2].startswith("pass: ewarp_mask") and "excess +0.0000" in decision.reasons[2]
    steps = untrained_evaluation.sampler.steps
    assert decision.reasons[3].startswith(f"pass: evaluated with the model's own {steps} sampling steps")
