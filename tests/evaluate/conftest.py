"""One full evaluation of the tiny dataset, shared by the evaluation tests.

Uses the session fixtures ``tiny_dataset_dir`` (6 frames of 48x32, six damage kinds) and
``tiny_pipeline_dir`` (untrained tiny pipeline) from ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from evaluate_helpers import run_evaluation

from seedvr.evaluate import EvaluationResult


@pytest.fixture(scope="session")
def full_evaluation(tmp_path_factory, tiny_dataset_dir, tiny_pipeline_dir) -> EvaluationResult:
    """Every method on the first clips of the test split, untrained seedvr with 2 steps."""
    out = tmp_path_factory.mktemp("evaluation") / "eval"
    return run_evaluation(tiny_pipeline_dir, tiny_dataset_dir, out)


@pytest.fixture(scope="session")
def noisy_pipeline_dir(tmp_path_factory) -> Path:
    """A tiny pipeline whose learned residuals are not zero, so its output depends on the
    diffusion noise (an untrained one returns the propagation guess whatever the seed)."""
    from seedvr.pipeline.pipeline import SeedVRPipeline

    pipeline = SeedVRPipeline.from_preset("tiny", seed=0)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for component in (pipeline.denoiser, pipeline.detail_net, pipeline.texture_net):
            for parameter in component.parameters():
                parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.02)
    folder = tmp_path_factory.mktemp("noisy-pipeline") / "pipeline"
    pipeline.save_pretrained(str(folder))
    return folder
