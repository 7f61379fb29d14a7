"""Repair timings of an evaluation, kept apart from its results.

Everything else an evaluation writes is a function of the model, the data and the seed;
wall-clock seconds differ on every run and every machine. ``dvc.yaml`` declares the results
(``metrics.json``, ``per_clip.csv``, ``report.md``...) as the evaluate stage's outputs and
``dvc.lock`` records their hashes, so a timing inside them would change the lock on every
``dvc repro``. Timings go to ``timings.json`` in the same folder instead, which is not a DVC
output, and to MLflow (``eval/<method>/sec_per_frame``, see
:mod:`seedvr.evaluate.mlflow_logging`)::

    {"methods": {"<method>": {"sec_per_frame", "seconds", "frames"}},
     "clips": [{"clip_id", "method", "frames", "seconds", "sec_per_frame"}, ...]}

``sec_per_frame`` is repair wall time over frames, model loading excluded; a method's figure
is its total seconds over its total frames (the frame-weighted mean of its clips' figures,
the aggregation rule of :mod:`seedvr.evaluate.summary`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runner pulls in torch; readers of timings.json (the flows) need not
    from seedvr.evaluate.runner import MethodRun

TIMINGS_FILE = "timings.json"
SPEED_KEY = "sec_per_frame"


def timings_of(runs: Iterable[MethodRun]) -> dict:
    """The content of ``timings.json`` for the (clip, method) runs of an evaluation."""
    runs = list(runs)
    methods: dict[str, dict] = {}
    for run in runs:
        totals = methods.setdefault(run.method, {"seconds": 0.0, "frames": 0})
        totals["seconds"] += run.seconds
        totals["frames"] += run.frames
    for totals in methods.values():
        totals[SPEED_KEY] = totals["seconds"] / totals["frames"]
    clips = [
        {"clip_id": run.clip_id, "method": run.method, "frames": run.frames, "seconds": run.seconds, SPEED_KEY: run.sec_per_frame}
        for run in runs
    ]
    return {"methods": methods, "clips": clips}


def write_timings(folder: Path, timings: dict) -> Path:
    path = Path(folder) / TIMINGS_FILE
    path.write_text(json.dumps(timings, indent=2) + "\n")
    return path


def read_timings(folder: str | Path) -> dict | None:
    """``timings.json`` of an evaluation folder; ``None`` when absent (an older evaluation)."""
    path = Path(folder) / TIMINGS_FILE
    return json.loads(path.read_text()) if path.is_file() else None
