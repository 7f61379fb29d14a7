"""Promotion gates: does a newly trained model deserve the ``champion`` alias?

Inputs are ``metrics.json`` documents written by the evaluation stage::

    {"split": ..., "clips": ..., "frames": ...,
     "methods": {"seedvr": {"psnr_mask": ..., "ewarp": ..., ...}, "telea": {...}, ...}}

Gates (thresholds from the ``register`` section of ``params.yaml``):

1. the candidate's ``psnr_mask`` beats the best classical baseline's by ``min_gain_psnr_mask_db``;
2. its ``ewarp`` (temporal warping error, lower is better) exceeds that baseline's by at most
   ``max_ewarp_regression``;
3. when a champion exists, its ``psnr_mask`` is at most ``champion_tolerance_db`` below the
   champion's, both measured on the same evaluation set (see :func:`champion_metrics_on`).

Every new version becomes ``challenger``; ``champion`` moves only when all gates pass, so a
rejected candidate leaves production untouched. The decision and its reasons (sentences with
the numbers) are logged to the run and tagged on the model version.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from seedvr.config import RegisterParams
from seedvr.errors import SeedVRError
from seedvr.registry.models import CHAMPION, MODEL_ARTIFACT, register_model

CANDIDATE_METHOD = "seedvr"
DECISION_ARTIFACT = "promotion/decision.json"
DECISION_TAG = "promotion.decision"
PROMOTED_METRIC = "promotion/promoted"
# Keys that identify an evaluation set: candidate and champion must agree on all present.
_EVALUATION_SET_KEYS = ("split", "clips", "frames")
_MAX_TAG_LENGTH = 5000


@dataclass
class PromotionDecision:
    """Whether to promote, why (one sentence per gate), and the numbers compared."""

    promote: bool
    reasons: list[str]
    candidate: dict
    champion: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RegistrationResult:
    """What :func:`register_and_promote` did."""

    model_name: str
    version: int
    aliases: list[str]
    decision: PromotionDecision
    previous_champion: int | None = None
    champion: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _require_methods(metrics: Mapping, source: str) -> Mapping:
    methods = metrics.get("methods") if isinstance(metrics, Mapping) else None
    if not isinstance(methods, Mapping):
        raise SeedVRError(f"{source} metrics have no 'methods' section: pass the evaluation's metrics.json")
    return methods


def _method_metric(metrics: Mapping, method: str, key: str, source: str) -> float:
    _require_methods(metrics, source)
    try:
        value = metrics["methods"][method][key]
    except (KeyError, TypeError):
        raise SeedVRError(f"{source} metrics have no methods.{method}.{key}; was {method} evaluated?") from None
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        raise SeedVRError(f"{source} metrics: methods.{method}.{key} is not a number ({value!r})") from None


def best_baseline(metrics: Mapping) -> tuple[str, float, float]:
    """``(name, psnr_mask, ewarp)`` of the classical method with the highest ``psnr_mask``."""
    methods = _require_methods(metrics, "candidate")
    candidates = []
    for name in methods:
        if name == CANDIDATE_METHOD:
            continue
        psnr = _method_metric(metrics, name, "psnr_mask", "candidate")
        if not math.isnan(psnr):
            candidates.append((psnr, name))
    if not candidates:
        raise SeedVRError("candidate metrics hold no classical baseline with a psnr_mask to compare against")
    # Same choice as the evaluation's gains: highest psnr_mask, ties to the method listed first.
    psnr, name = max(candidates, key=lambda candidate: candidate[0])
    return name, psnr, _method_metric(metrics, name, "ewarp", "candidate")


def check_same_evaluation_set(candidate_metrics: Mapping, champion_metrics: Mapping) -> None:
    """Refuse to compare numbers measured on different data (split, clip or frame counts)."""
    for key in _EVALUATION_SET_KEYS:
        if key in candidate_metrics and key in champion_metrics and candidate_metrics[key] != champion_metrics[key]:
            raise SeedVRError(
                f"champion metrics come from another evaluation set ({key} {champion_metrics[key]!r} "
                f"vs {candidate_metrics[key]!r}): evaluate the champion on the candidate's set"
            )


def decide_promotion(
    candidate_metrics: Mapping,
    gates: RegisterParams,
    champion_metrics: Mapping | None = None,
) -> PromotionDecision:
    """Apply the gates; ``promote`` is true only when every gate passes.

    ``champion_metrics`` (a metrics.json of the current champion on the same evaluation set,
    ``None`` when there is no champion) adds the no-regression gate; an optional
    ``model_version`` key in it names the champion in the reasons.
    """
    psnr = _method_metric(candidate_metrics, CANDIDATE_METHOD, "psnr_mask", "candidate")
    ewarp = _method_metric(candidate_metrics, CANDIDATE_METHOD, "ewarp", "candidate")
    baseline, baseline_psnr, baseline_ewarp = best_baseline(candidate_metrics)
    reasons: list[str] = []
    passed: list[bool] = []

    gain = psnr - baseline_psnr
    ok = not math.isnan(gain) and gain >= gates.min_gain_psnr_mask_db
    passed.append(ok)
    reasons.append(
        f"{'pass' if ok else 'fail'}: psnr_mask {psnr:.2f} dB vs best baseline {baseline} {baseline_psnr:.2f} dB: "
        f"gain {gain:+.2f} dB {'>=' if ok else '<'} required {gates.min_gain_psnr_mask_db:.2f} dB"
    )

    excess = ewarp - baseline_ewarp
    ok = not math.isnan(excess) and excess <= gates.max_ewarp_regression
    passed.append(ok)
    if math.isnan(excess):
        reasons.append(f"fail: ewarp cannot be compared (seedvr {ewarp}, {baseline} {baseline_ewarp}): no temporal metric")
    else:
        reasons.append(
            f"{'pass' if ok else 'fail'}: ewarp {ewarp:.4f} vs {baseline} {baseline_ewarp:.4f}: "
            f"excess {excess:+.4f} {'<=' if ok else '>'} allowed {gates.max_ewarp_regression:.4f}"
        )

    champion = None
    if champion_metrics is not None:
        check_same_evaluation_set(candidate_metrics, champion_metrics)
        champion_psnr = _method_metric(champion_metrics, CANDIDATE_METHOD, "psnr_mask", "champion")
        champion_ewarp = _method_metric(champion_metrics, CANDIDATE_METHOD, "ewarp", "champion")
        version = champion_metrics.get("model_version")
        champion = {"version": version, "psnr_mask": champion_psnr, "ewarp": champion_ewarp}
        difference = psnr - champion_psnr
        ok = not math.isnan(difference) and difference >= -gates.champion_tolerance_db
        passed.append(ok)
        label = f"champion v{version}" if version is not None else "champion"
        reasons.append(
            f"{'pass' if ok else 'fail'}: psnr_mask {psnr:.2f} dB vs {label} {champion_psnr:.2f} dB: "
            f"difference {difference:+.2f} dB {'>=' if ok else '<'} allowed -{gates.champion_tolerance_db:.2f} dB"
        )
    else:
        reasons.append("no champion yet: the champion gate does not apply")

    return PromotionDecision(
        promote=all(passed),
        reasons=reasons,
        candidate={
            "psnr_mask": psnr,
            "ewarp": ewarp,
            "baseline": baseline,
            "baseline_psnr_mask": baseline_psnr,
            "baseline_ewarp": baseline_ewarp,
            "split": candidate_metrics.get("split"),
        },
        champion=champion,
    )


def current_champion(model_name: str) -> int | None:
    """The version holding ``champion``, ``None`` if the model or the alias does not exist."""
    client = MlflowClient()
    try:
        return int(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def champion_metrics_on(
    model_name: str,
    data_dir: str | Path,
    split: str,
    evaluate_fn: Callable,
    out_dir: str | Path,
    **evaluate_kwargs,
) -> dict | None:
    """Evaluate the current champion on the candidate's evaluation set; ``None`` without one.

    ``evaluate_fn`` is :func:`seedvr.evaluate.evaluate_dataset` (passed in so the registry does
    not depend on the evaluation package); it is called with the champion's pinned version URI
    (an alias could move mid-evaluation) and ``methods=("seedvr",)``, since the baselines are
    already in the candidate's metrics. The returned metrics carry ``model_version``.
    """
    version = current_champion(model_name)
    if version is None:
        return None

    def evaluate():
        return evaluate_fn(
            model=f"models:/{model_name}/{version}",
            data_dir=data_dir,
            split=split,
            methods=(CANDIDATE_METHOD,),
            out_dir=out_dir,
            **evaluate_kwargs,
        )

    if mlflow.active_run() is not None:
        # The evaluation logs to the active run: a nested run keeps the champion's figures
        # from overwriting the candidate's eval/seedvr/* metrics.
        with mlflow.start_run(run_name=f"champion-v{version}-evaluation", nested=True):
            result = evaluate()
    else:
        result = evaluate()
    metrics = dict(getattr(result, "metrics", result))
    metrics["model_version"] = version
    return metrics


def _version_tags(decision: PromotionDecision) -> dict[str, str]:
    candidate = decision.candidate
    return {
        DECISION_TAG: "promoted" if decision.promote else "rejected",
        "promotion.reasons": " | ".join(decision.reasons)[:_MAX_TAG_LENGTH],
        "eval.psnr_mask": f"{candidate['psnr_mask']:.4f}",
        "eval.ewarp": f"{candidate['ewarp']:.6f}",
        "eval.baseline": str(candidate["baseline"]),
        "eval.baseline_psnr_mask": f"{candidate['baseline_psnr_mask']:.4f}",
        "eval.split": str(candidate.get("split")),
    }


def register_and_promote(
    run_id: str,
    candidate_metrics: Mapping,
    gates: RegisterParams,
    champion_metrics: Mapping | None = None,
    artifact_name: str = MODEL_ARTIFACT,
) -> RegistrationResult:
    """Register the run's model (alias ``challenger``) and move ``champion`` if the gates pass.

    When a champion exists its metrics on the same evaluation set are required (see
    :func:`champion_metrics_on`); they are checked to belong to the current champion when they
    name a ``model_version``. The decision is decided before anything is registered, so bad
    inputs leave the registry unchanged.
    """
    model_name = gates.model_name
    previous = current_champion(model_name)
    if previous is None:
        champion_metrics = None  # nothing to defend: the champion gate does not apply
    elif champion_metrics is None:
        raise SeedVRError(
            f"{model_name} has a champion (version {previous}): evaluate it on the same set and pass its metrics"
        )
    else:
        named = champion_metrics.get("model_version")
        if named is not None and int(named) != previous:
            raise SeedVRError(f"champion metrics are for version {named} but the champion is now version {previous}")
        champion_metrics = {**champion_metrics, "model_version": previous}
    decision = decide_promotion(candidate_metrics, gates, champion_metrics)

    client = MlflowClient()
    version = register_model(run_id, model_name, artifact_name, tags=_version_tags(decision))
    if decision.promote:
        client.set_registered_model_alias(model_name, CHAMPION, str(version))
    champion = version if decision.promote else previous

    record = {**decision.to_dict(), "model_name": model_name, "version": version, "previous_champion": previous, "champion": champion}
    client.log_dict(run_id, record, DECISION_ARTIFACT)
    client.set_tag(run_id, DECISION_TAG, "promoted" if decision.promote else "rejected")
    client.set_tag(run_id, "promotion.model_version", f"{model_name}/{version}")
    client.log_metric(run_id, PROMOTED_METRIC, 1.0 if decision.promote else 0.0)

    aliases = sorted(client.get_model_version(model_name, str(version)).aliases or [])
    return RegistrationResult(
        model_name=model_name,
        version=version,
        aliases=aliases,
        decision=decision,
        previous_champion=previous,
        champion=champion,
    )
