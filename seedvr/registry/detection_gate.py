"""The detection gate: does the detector evaluated with the candidate find film damage well enough?

Blind repair is only as good as the mask the detector draws, so a version that carries a
detector (the pipeline's ``train_detector`` stage) is promoted only when, on the evaluation
split (metrics.json ``detection``), every film kind with a threshold in ``register`` reaches
``min_detection_recall`` and ``min_detection_precision``, and the clean clips have at most
``max_clean_flagged`` of their pixels flagged. A kind with a threshold that was not evaluated,
or an undefined figure, fails the gate. An untrained detector (its head starts at the
log-odds of rare damage) flags almost nothing: its recall fails.
"""

from __future__ import annotations

from seedvr.config import RegisterParams
from seedvr.evaluate.metrics_file import DetectionFigures


def _at_least(value: float | None, bound: float) -> bool:
    return value is not None and value >= bound


def _shown(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def detection_gate(detection: DetectionFigures, gates: RegisterParams) -> tuple[bool, str]:
    """``(passed, one sentence with every figure and bound)`` for the detector's scores."""
    problems, parts = [], []
    for kind in dict.fromkeys([*gates.min_detection_recall, *gates.min_detection_precision]):
        figures = detection.per_kind.get(kind)
        if figures is None:
            problems.append(f"{kind} not evaluated")
            continue
        recall_bound = gates.min_detection_recall.get(kind, 0.0)
        precision_bound = gates.min_detection_precision.get(kind, 0.0)
        parts.append(
            f"{kind} recall {_shown(figures.recall)} (>= {recall_bound:.2f}), "
            f"precision {_shown(figures.precision)} (>= {precision_bound:.2f})"
        )
        if not _at_least(figures.recall, recall_bound):
            problems.append(f"{kind} recall {_shown(figures.recall)} < {recall_bound:.2f}")
        if not _at_least(figures.precision, precision_bound):
            problems.append(f"{kind} precision {_shown(figures.precision)} < {precision_bound:.2f}")
    clean = detection.clean
    flagged = None if clean is None else clean.flagged_fraction
    if flagged is None:
        problems.append("no clean clip scored")
    else:
        parts.append(f"clean clips {100 * flagged:.4f} % flagged (<= {100 * gates.max_clean_flagged:.4f} %)")
        if flagged > gates.max_clean_flagged:
            problems.append(f"clean clips {100 * flagged:.4f} % flagged > {100 * gates.max_clean_flagged:.4f} %")
    if problems:
        return False, f"fail: detector {detection.detector}: " + "; ".join(problems)
    return True, f"pass: detector {detection.detector}: " + "; ".join(parts)
