"""Tables and aggregates of an evaluation: per clip, per frame, per method, per damage kind, gains.

Aggregation rules (the same everywhere: ``metrics.json``, whose layout is
:mod:`seedvr.evaluate.metrics_file`, the report, MLflow):

* A method's figure for a metric is the mean of its per-clip values **weighted by the
  clip's frame count**, so a 100-frame clip counts 10 times as much as a 10-frame clip and
  the figure reads as "per frame of footage", whatever the clip lengths.
* PSNR (``psnr`` and ``psnr_mask``) is aggregated the same way: the (frame-weighted) mean of
  the per-clip PSNR in dB, **not** the PSNR of the pooled squared error. Pooling would let
  the worst clip's error dominate the figure; the mean of dB values is what video
  restoration papers report and keeps one bad clip visible without hiding the others.
* No timing: wall-clock seconds differ from run to run, so they live apart, in
  ``timings.json`` (:mod:`seedvr.evaluate.timings`), and these tables depend only on the
  model, the data and the seed.
* A metric that is undefined for a clip (``nan``: VIF on frames under 41 px, temporal
  metrics on a single frame) is left out of that metric's mean; a metric undefined
  everywhere is ``null``. ``lpips`` is ``null`` when it was not computed (no local VGG16).
* Damage kinds: a clip counts for every kind it contains, so each kind's figure is the
  frame-weighted mean over the clips showing that kind and a regression on one kind
  shows even when the overall mean hides it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from seedvr.data.manifest import KIND_SEPARATOR
from seedvr.evaluate.comparison import CANDIDATE_METHOD, best_baseline
from seedvr.evaluate.metrics_file import EvaluationMetrics, SamplerSettings
from seedvr.evaluate.runner import MethodRun
from seedvr.metrics import HIGHER_IS_BETTER, METRIC_KEYS

MODEL_METHOD = CANDIDATE_METHOD
PER_KIND_KEYS: tuple[str, ...] = ("psnr_mask", "ssim_mask", "ewarp", "ewarp_mask")
# The figures `gains` compares (psnr_mask under its historical name psnr_mask_db).
GAIN_KEYS: dict[str, str] = {"psnr_mask_db": "psnr_mask", "ssim_mask": "ssim_mask", "ewarp": "ewarp", "ewarp_mask": "ewarp_mask"}
PER_CLIP_ID_COLUMNS: tuple[str, ...] = ("clip_id", "method", "damage_kinds", "frames", "mask_ratio")
PER_FRAME_COLUMNS: tuple[str, ...] = ("frame", "clip_id", "method", "psnr_mask", "ewarp_frame")


def per_clip_table(runs: Iterable[MethodRun]) -> pd.DataFrame:
    """One row per (clip, method): ids, every metric, ``lpips`` when computed."""
    runs = list(runs)
    with_lpips = any("lpips" in run.metrics for run in runs)
    metric_columns = METRIC_KEYS + (("lpips",) if with_lpips else ())
    rows = []
    for run in runs:
        row = {
            "clip_id": run.clip_id,
            "method": run.method,
            "damage_kinds": run.damage_kinds,
            "frames": run.frames,
            "mask_ratio": run.mask_ratio,
        }
        row.update({key: float(run.metrics.get(key, math.nan)) for key in metric_columns})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PER_CLIP_ID_COLUMNS + metric_columns))


def per_frame_table(runs: Iterable[MethodRun]) -> pd.DataFrame:
    """One row per (frame, method). ``frame`` numbers the split's frames globally, clip after
    clip in evaluation order, so every method shares the same x axis."""
    runs = list(runs)
    offsets: dict[str, int] = {}
    next_start = 0
    for run in runs:
        if run.clip_id not in offsets:
            offsets[run.clip_id] = next_start
            next_start += run.frames
    # Grouped by method (in evaluation order), clips in order within: each method's series is
    # one contiguous block, which is what `dvc plots` and the line plots want.
    method_order = {name: index for index, name in enumerate(dict.fromkeys(run.method for run in runs))}
    frames = [
        pd.DataFrame(
            {
                "frame": np.arange(offsets[run.clip_id], offsets[run.clip_id] + run.frames),
                "clip_id": run.clip_id,
                "method": run.method,
                "psnr_mask": run.psnr_mask_frames,
                "ewarp_frame": run.ewarp_frames,
            }
        )
        for run in sorted(runs, key=lambda run: method_order[run.method])
    ]
    return pd.concat(frames, ignore_index=True)[list(PER_FRAME_COLUMNS)]


def clip_boundaries(per_frame: pd.DataFrame) -> list[int]:
    """Global frame index where each clip after the first starts (for plot separators)."""
    starts = per_frame.groupby("clip_id", sort=False)["frame"].min().sort_values()
    return [int(start) for start in starts.iloc[1:]]


def weighted_mean(values: pd.Series, weights: pd.Series) -> float | None:
    """Frame-weighted mean ignoring ``nan``; ``None`` when no value is defined."""
    defined = values.notna() & np.isfinite(values.astype(float))
    if not defined.any():
        return None
    return float(np.average(values[defined].astype(float), weights=weights[defined].astype(float)))


def _kinds_of(damage_kinds: str) -> list[str]:
    return [kind for kind in str(damage_kinds).split(KIND_SEPARATOR) if kind]


def damage_kinds_in(per_clip: pd.DataFrame) -> list[str]:
    """Every damage kind present, in first-seen order."""
    seen: dict[str, None] = {}
    for kinds in per_clip["damage_kinds"]:
        seen.update(dict.fromkeys(_kinds_of(kinds)))
    return list(seen)


def _rows_with_kind(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    return table[[kind in _kinds_of(kinds) for kinds in table["damage_kinds"]]]


def summarize_method(rows: pd.DataFrame) -> dict:
    """Aggregates of one method's per-clip rows, including its ``per_kind`` breakdown."""
    weights = rows["frames"]
    summary: dict = {key: weighted_mean(rows[key], weights) for key in METRIC_KEYS}
    summary["lpips"] = weighted_mean(rows["lpips"], weights) if "lpips" in rows else None
    per_kind = {}
    for kind in damage_kinds_in(rows):
        kind_rows = _rows_with_kind(rows, kind)
        figures: dict = {key: weighted_mean(kind_rows[key], kind_rows["frames"]) for key in PER_KIND_KEYS}
        figures["clips"] = int(len(kind_rows))
        figures["frames"] = int(kind_rows["frames"].sum())
        per_kind[kind] = figures
    summary["per_kind"] = per_kind
    return summary


def _difference(model: float | None, baseline: float | None, key: str) -> float | None:
    """Signed so that positive always means the model is better."""
    if model is None or baseline is None:
        return None
    return model - baseline if HIGHER_IS_BETTER[key] else baseline - model


def compute_gains(methods: dict[str, dict]) -> dict | None:
    """seedvr against the best classical method (by ``psnr_mask``); ``None`` without both.

    The baseline is chosen by :func:`seedvr.evaluate.comparison.best_baseline`, the rule the
    promotion gates use too. ``psnr_mask_db`` and ``ssim_mask`` are seedvr minus baseline,
    ``ewarp`` and ``ewarp_mask`` are baseline minus seedvr: positive numbers mean seedvr is
    better on every key, also in ``per_kind``.
    """
    if MODEL_METHOD not in methods:
        return None
    baseline = best_baseline({name: figures.get("psnr_mask") for name, figures in methods.items()})
    if baseline is None:
        return None
    model, classical = methods[MODEL_METHOD], methods[baseline]
    per_kind = {}
    for kind, model_kind in model["per_kind"].items():
        baseline_kind = classical["per_kind"].get(kind)
        if baseline_kind is None:
            continue
        per_kind[kind] = {gain: _difference(model_kind.get(key), baseline_kind.get(key), key) for gain, key in GAIN_KEYS.items()}
    return {
        "baseline": baseline,
        **{gain: _difference(model.get(key), classical.get(key), key) for gain, key in GAIN_KEYS.items()},
        "per_kind": per_kind,
    }


def summarize(
    per_clip: pd.DataFrame, split: str, methods: Iterable[str], sampler: SamplerSettings | None = None
) -> EvaluationMetrics:
    """The content of ``metrics.json`` (:mod:`seedvr.evaluate.metrics_file`); ``sampler``
    (seedvr's sampling settings) is included when given."""
    methods = list(methods)
    first_method_rows = per_clip[per_clip["method"] == methods[0]]
    by_method = {name: summarize_method(per_clip[per_clip["method"] == name]) for name in methods}
    return EvaluationMetrics(
        split=split,
        clips=int(len(first_method_rows)),
        frames=int(first_method_rows["frames"].sum()),
        sampler=sampler,
        methods=by_method,
        gains=compute_gains(by_method),
    )


def json_ready(value):
    """``nan``/``inf`` -> ``None``, recursively: JSON has no NaN (for reports without a schema;
    metrics.json's figures become ``null`` in :mod:`seedvr.evaluate.metrics_file`)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value
