"""Evaluation over a dataset split: every repair method on the same clips, scored with every
metric, aggregated per method and per damage kind, with plots, sample strips and a report.

Entry point: :func:`evaluate_dataset` (command line: ``seedvr evaluate``). Names load lazily
(PEP 562), so the registry can import the light :mod:`seedvr.evaluate.comparison` and
:mod:`seedvr.evaluate.metrics_file` without pulling in the evaluation's plotting and model code.
"""

from __future__ import annotations

from seedvr._lazy import lazy_getattr

_LAZY_EXPORTS = {
    "EvaluationMetrics": "seedvr.evaluate.metrics_file",
    "EvaluationResult": "seedvr.evaluate.evaluation",
    "evaluate_dataset": "seedvr.evaluate.evaluation",
    "best_baseline": "seedvr.evaluate.comparison",
}

__all__ = sorted(_LAZY_EXPORTS)

__getattr__ = lazy_getattr("seedvr.evaluate", _LAZY_EXPORTS, globals())
