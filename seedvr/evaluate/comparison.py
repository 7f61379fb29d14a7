"""Which method seedvr is compared with: the one rule shared by the evaluation and the gates.

The evaluation's ``gains`` (:func:`seedvr.evaluate.summary.compute_gains`) and the promotion
gates (:mod:`seedvr.registry.promotion`) both call :func:`best_baseline`, so "the best
baseline" in ``metrics.json``, in the report, in MLflow and in a promotion decision is always
the same method. Light on purpose (no pandas, torch or MLflow): the registry imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from seedvr.method_catalog import MODEL_METHOD

# The model under evaluation, and its own starting point: an untrained pipeline returns the
# propagation guess exactly, so beating `propagate` is what training has to show.
CANDIDATE_METHOD = MODEL_METHOD
REFERENCE_METHOD = "propagate"


def _defined(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def best_baseline(scores: Mapping[str, float | None], candidate: str = CANDIDATE_METHOD) -> str | None:
    """The method other than ``candidate`` with the highest score (``psnr_mask``: higher is better).

    ``scores`` maps method names to a figure, in the order the methods were evaluated;
    undefined figures (``None``, ``nan``) are skipped. Ties go to the method listed first.
    ``None`` when no other method has a defined score.
    """
    best: str | None = None
    for name, value in scores.items():
        if name == candidate or not _defined(value):
            continue
        if best is None or value > scores[best]:
            best = name
    return best
