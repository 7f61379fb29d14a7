"""Evaluation over a dataset split: every repair method on the same clips, scored with every
metric, aggregated per method and per damage kind, with plots, sample strips and a report.

Entry point: :func:`evaluate_dataset` (command line: ``seedvr evaluate``).
"""

from seedvr.evaluate.evaluation import EvaluationResult, evaluate_dataset

__all__ = ["EvaluationResult", "evaluate_dataset"]
