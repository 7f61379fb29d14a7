"""Constants and helpers shared by the evaluation tests (imported by name: no package here)."""

from __future__ import annotations

import contextlib

import torch

from seedvr.evaluate import EvaluationResult, evaluate_dataset

ALL_METHODS = ("seedvr", "propagate", "telea", "ns")
EVALUATED_CLIPS = 2
STRIPS = 2
STEPS = 2


@contextlib.contextmanager
def single_torch_thread():
    """The test machine is shared and small: one intra-op thread avoids oversubscription,
    which makes the tiny model several times slower. Restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_evaluation(model, data_dir, out_dir, **options) -> EvaluationResult:
    settings = {"steps": STEPS, "max_clips": EVALUATED_CLIPS, "strips": STRIPS, "methods": ALL_METHODS}
    settings.update(options)
    with single_torch_thread():
        return evaluate_dataset(model, data_dir, out_dir=out_dir, **settings)
