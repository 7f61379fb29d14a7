"""Promotion gates: does a newly trained model deserve the ``champion`` alias?

Inputs are evaluations' ``metrics.json`` (:class:`seedvr.evaluate.metrics_file.EvaluationMetrics`).

Gates (thresholds from the ``register`` section of ``params.yaml``), each able to fail:

1. **propagate**: the candidate's ``psnr_mask`` beats ``propagate``'s (the model's own
   starting point: an untrained pipeline returns it exactly) by at least
   ``min_gain_over_propagate_db``, which the schema holds strictly positive, so a tie fails;
2. **per kind**: on all clips and on every damage kind present, the candidate's ``psnr_mask``
   is at most ``max_kind_regression_db`` below the best other method on that kind (chosen by
   :func:`seedvr.evaluate.comparison.best_baseline`, the evaluation's own rule for ``gains``);
3. **temporal**: its ``ewarp_mask`` (warping error inside the repaired region, lower is
   better) exceeds ``propagate``'s by at most ``max_ewarp_regression``;
4. **sampler**: the evaluation ran the model's own sampling steps (``sampler.steps ==
   sampler.model_steps``), i.e. it measured what batch repair ships;
5. **detection** (when the evaluation scored a detector, metrics.json ``detection``): every
   film kind reaches ``min_detection_recall`` and ``min_detection_precision`` and clean clips
   have at most ``max_clean_flagged`` of their pixels flagged
   (:mod:`seedvr.registry.detection_gate`);
6. **champion**: when a champion exists, the candidate's ``psnr_mask`` is at most
   ``champion_tolerance_db`` below the champion's, both measured on the same evaluation set
   (see :func:`champion_metrics_on`).

An undefined figure (``null``) fails its gate instead of passing it. Every new version
becomes ``challenger``; ``champion`` moves only when all gates pass, so a rejected candidate
leaves production untouched. The decision and its reasons (one sentence per gate, with the
numbers) are logged to the run and tagged on the model version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from seedvr.config import RegisterParams
from seedvr.errors import SeedVRError
from seedvr.evaluate.comparison import CANDIDATE_METHOD, REFERENCE_METHOD
from seedvr.evaluate.comparison import best_baseline as _best_method
from seedvr.evaluate.metrics_file import EvaluationMetrics, MethodFigures
from seedvr.modelstore.registered import CHAMPION, current_champion
from seedvr.registry.detection_gate import detection_gate
from seedvr.registry.models import MODEL_ARTIFACT, register_model

DECISION_ARTIFACT = "promotion/decision.json"
DECISION_TAG = "promotion.decision"
PROMOTED_METRIC = "promotion/promoted"
# What identifies an evaluation set: candidate and champion must agree on each.
_EVALUATION_SET_KEYS = ("split", "clips", "frames")
_MAX_TAG_LENGTH = 5000


@dataclass(frozen=True)
class ChampionEvaluation:
    """The current champion's metrics on the candidate's evaluation set, and its version
    (``None`` when not known: the registry's champion is then assumed)."""

    metrics: EvaluationMetrics
    version: int | None = None


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


def _figures(metrics: EvaluationMetrics, method: str, source: str) -> MethodFigures:
    figures = metrics.methods.get(method)
    if figures is None:
        raise SeedVRError(f"{source} metrics have no method {method}: was {method} evaluated?")
    return figures


def _value(figure: float | None) -> float:
    """A figure as a float, ``nan`` when undefined, so that a comparison with it fails."""
    return math.nan if figure is None else figure


def _kind_psnr(metrics: EvaluationMetrics, method: str, kind: str) -> float | None:
    """``methods.<method>.per_kind.<kind>.psnr_mask``; ``None`` when the method has no such kind."""
    figures = metrics.methods[method].per_kind.get(kind)
    return None if figures is None else _value(figures.psnr_mask)


def best_baseline(metrics: EvaluationMetrics) -> tuple[str, float, float]:
    """``(name, psnr_mask, ewarp)`` of the classical method with the highest ``psnr_mask``.

    The choice is :func:`seedvr.evaluate.comparison.best_baseline`'s, the evaluation's rule
    for ``gains.baseline``: highest ``psnr_mask``, ties to the method listed first.
    """
    scores = {name: _value(figures.psnr_mask) for name, figures in metrics.methods.items() if name != CANDIDATE_METHOD}
    name = _best_method(scores)
    if name is None:
        raise SeedVRError("candidate metrics hold no classical baseline with a psnr_mask to compare against")
    return name, scores[name], _value(metrics.methods[name].ewarp)


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def _propagate_gate(psnr: float, propagate_psnr: float, gates: RegisterParams) -> tuple[bool, str]:
    gain = psnr - propagate_psnr
    margin = gates.min_gain_over_propagate_db
    if math.isnan(gain):
        return False, (
            f"fail: psnr_mask vs {REFERENCE_METHOD} cannot be compared (seedvr {psnr}, {REFERENCE_METHOD} "
            f"{propagate_psnr}): gain over {REFERENCE_METHOD} unknown, required {margin:.3f} dB"
        )
    ok = gain >= margin
    return ok, (
        f"{_verdict(ok)}: psnr_mask {psnr:.3f} dB vs {REFERENCE_METHOD} {propagate_psnr:.3f} dB (the model's "
        f"starting point): gain {gain:+.3f} dB {'>=' if ok else '<'} required {margin:.3f} dB"
    )


def _kind_gate(metrics: EvaluationMetrics, psnr: float, gates: RegisterParams) -> tuple[bool, str]:
    """All clips and every damage kind: seedvr against the best other method on it."""
    tolerance = gates.max_kind_regression_db
    baseline, baseline_psnr, _ = best_baseline(metrics)
    rows = [("all clips", psnr, baseline, baseline_psnr)]
    for kind in metrics.damage_kinds():
        others = {name: _kind_psnr(metrics, name, kind) for name in metrics.methods if name != CANDIDATE_METHOD}
        best = _best_method(others)
        if best is None:
            continue  # no other method measured on this kind: nothing to compare with
        own = _kind_psnr(metrics, CANDIDATE_METHOD, kind)
        rows.append((kind, math.nan if own is None else own, best, others[best]))
    differences = [(label, own - other, own, name, other) for label, own, name, other in rows]
    failing = [row for row in differences if math.isnan(row[1]) or row[1] < -tolerance]

    def describe(row) -> str:
        label, difference, own, name, other = row
        return f"{label} {own:.2f} dB vs {name} {other:.2f} dB ({difference:+.2f} dB)"

    kinds = len(rows) - 1
    if failing:
        return False, (
            f"fail: psnr_mask below the best other method by more than allowed {tolerance:.2f} dB on "
            + ", ".join(describe(row) for row in failing)
        )
    closest = min(differences, key=lambda row: row[1])
    return True, (
        f"pass: psnr_mask within {tolerance:.2f} dB of the best other method on all clips and "
        f"{kinds} damage kind{'s' if kinds != 1 else ''}: lowest {describe(closest)}"
    )


def _temporal_gate(ewarp_mask: float, propagate_ewarp_mask: float, gates: RegisterParams) -> tuple[bool, str]:
    excess = ewarp_mask - propagate_ewarp_mask
    allowed = gates.max_ewarp_regression
    if math.isnan(excess):
        return False, (
            f"fail: ewarp_mask cannot be compared (seedvr {ewarp_mask}, {REFERENCE_METHOD} {propagate_ewarp_mask}): "
            "no in-mask temporal metric (re-run the evaluation)"
        )
    ok = excess <= allowed
    return ok, (
        f"{_verdict(ok)}: ewarp_mask {ewarp_mask:.4f} vs {REFERENCE_METHOD} {propagate_ewarp_mask:.4f}: "
        f"excess {excess:+.4f} {'<=' if ok else '>'} allowed {allowed:.4f}"
    )


def _sampler_gate(metrics: EvaluationMetrics) -> tuple[bool, str, int | None]:
    """The evaluation must have run the steps the model ships (batch repair's ``steps`` None)."""
    sampler = metrics.sampler
    if sampler is None:
        return (
            False,
            (
                "fail: the evaluation does not record its sampling steps (no sampler.steps and "
                "sampler.model_steps in metrics.json): re-run it with evaluate.steps null"
            ),
            None,
        )
    steps, model_steps = sampler.steps, sampler.model_steps
    if steps != model_steps:
        return (
            False,
            (
                f"fail: evaluated with {steps} sampling steps but the model ships {model_steps} (what batch repair "
                "runs): re-run the evaluation with evaluate.steps null"
            ),
            steps,
        )
    return True, f"pass: evaluated with the model's own {steps} sampling steps, as batch repair runs it", steps


def _champion_gate(psnr: float, champion_psnr: float, version, gates: RegisterParams) -> tuple[bool, str]:
    difference = psnr - champion_psnr
    ok = not math.isnan(difference) and difference >= -gates.champion_tolerance_db
    label = f"champion v{version}" if version is not None else "champion"
    return ok, (
        f"{_verdict(ok)}: psnr_mask {psnr:.2f} dB vs {label} {champion_psnr:.2f} dB: "
        f"difference {difference:+.2f} dB {'>=' if ok else '<'} allowed -{gates.champion_tolerance_db:.2f} dB"
    )


def check_same_evaluation_set(candidate: EvaluationMetrics, champion: EvaluationMetrics) -> None:
    """Refuse to compare numbers measured on different data (split, clip or frame counts)."""
    for key in _EVALUATION_SET_KEYS:
        candidate_value, champion_value = getattr(candidate, key), getattr(champion, key)
        if candidate_value != champion_value:
            raise SeedVRError(
                f"champion metrics come from another evaluation set ({key} {champion_value!r} "
                f"vs {candidate_value!r}): evaluate the champion on the candidate's set"
            )


def decide_promotion(
    candidate_metrics: EvaluationMetrics,
    gates: RegisterParams,
    champion: ChampionEvaluation | None = None,
) -> PromotionDecision:
    """Apply the gates; ``promote`` is true only when every gate passes.

    Reasons come in gate order (propagate, per kind, temporal, sampler, detection, champion), one
    sentence each. ``champion`` (the current champion evaluated on the same set, ``None``
    when there is no champion) adds the no-regression gate; its version, when known, names
    the champion in the reasons.

    Raises:
        SeedVRError: metrics without a ``seedvr`` or ``propagate`` evaluation, or a champion
            measured on another evaluation set.
    """
    seedvr = _figures(candidate_metrics, CANDIDATE_METHOD, "candidate")
    propagate = _figures(candidate_metrics, REFERENCE_METHOD, "candidate")
    psnr, ewarp, ewarp_mask = _value(seedvr.psnr_mask), _value(seedvr.ewarp), _value(seedvr.ewarp_mask)
    propagate_psnr, propagate_ewarp_mask = _value(propagate.psnr_mask), _value(propagate.ewarp_mask)
    baseline, baseline_psnr, baseline_ewarp = best_baseline(candidate_metrics)

    outcomes = [
        _propagate_gate(psnr, propagate_psnr, gates),
        _kind_gate(candidate_metrics, psnr, gates),
        _temporal_gate(ewarp_mask, propagate_ewarp_mask, gates),
    ]
    sampler_ok, sampler_reason, steps = _sampler_gate(candidate_metrics)
    outcomes.append((sampler_ok, sampler_reason))
    if candidate_metrics.detection is not None:
        outcomes.append(detection_gate(candidate_metrics.detection, gates))

    champion_figures = None
    if champion is not None:
        check_same_evaluation_set(candidate_metrics, champion.metrics)
        defended = _figures(champion.metrics, CANDIDATE_METHOD, "champion")
        champion_psnr = _value(defended.psnr_mask)
        champion_figures = {"version": champion.version, "psnr_mask": champion_psnr, "ewarp": _value(defended.ewarp)}
        outcomes.append(_champion_gate(psnr, champion_psnr, champion.version, gates))
        reasons = [reason for _, reason in outcomes]
    else:
        reasons = [reason for _, reason in outcomes] + ["no champion yet: the champion gate does not apply"]

    return PromotionDecision(
        promote=all(ok for ok, _ in outcomes),
        reasons=reasons,
        candidate={
            "psnr_mask": psnr,
            "ewarp": ewarp,
            "ewarp_mask": ewarp_mask,
            "propagate_psnr_mask": propagate_psnr,
            "propagate_ewarp_mask": propagate_ewarp_mask,
            "baseline": baseline,
            "baseline_psnr_mask": baseline_psnr,
            "baseline_ewarp": baseline_ewarp,
            "steps": steps,
            "split": candidate_metrics.split,
        },
        champion=champion_figures,
    )


def champion_metrics_on(
    model_name: str,
    data_dir: str | Path,
    split: str,
    evaluate_fn: Callable,
    out_dir: str | Path,
    **evaluate_kwargs,
) -> ChampionEvaluation | None:
    """Evaluate the current champion on the candidate's evaluation set; ``None`` without one.

    ``evaluate_fn`` is :func:`seedvr.evaluate.evaluate_dataset` (passed in so the registry does
    not depend on the evaluation package); it is called with the champion's pinned version URI
    (an alias could move mid-evaluation) and ``methods=("seedvr",)``, since the baselines are
    already in the candidate's metrics.
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
    return ChampionEvaluation(metrics=result.metrics, version=version)


def _version_tags(decision: PromotionDecision) -> dict[str, str]:
    candidate = decision.candidate
    return {
        DECISION_TAG: "promoted" if decision.promote else "rejected",
        "promotion.reasons": " | ".join(decision.reasons)[:_MAX_TAG_LENGTH],
        "eval.psnr_mask": f"{candidate['psnr_mask']:.4f}",
        "eval.ewarp": f"{candidate['ewarp']:.6f}",
        "eval.ewarp_mask": f"{candidate['ewarp_mask']:.6f}",
        "eval.propagate_psnr_mask": f"{candidate['propagate_psnr_mask']:.4f}",
        "eval.baseline": str(candidate["baseline"]),
        "eval.baseline_psnr_mask": f"{candidate['baseline_psnr_mask']:.4f}",
        "eval.split": str(candidate["split"]),
    }


def register_and_promote(
    run_id: str,
    candidate_metrics: EvaluationMetrics,
    gates: RegisterParams,
    champion: ChampionEvaluation | None = None,
    artifact_name: str = MODEL_ARTIFACT,
) -> RegistrationResult:
    """Register the run's model (alias ``challenger``) and move ``champion`` if the gates pass.

    When a champion exists its evaluation on the same set is required (see
    :func:`champion_metrics_on`); it is checked to belong to the current champion when it
    names a version. The decision is decided before anything is registered, so bad inputs
    leave the registry unchanged.
    """
    model_name = gates.model_name
    previous = current_champion(model_name)
    if previous is None:
        champion = None  # nothing to defend: the champion gate does not apply
    elif champion is None:
        raise SeedVRError(f"{model_name} has a champion (version {previous}): evaluate it on the same set and pass its metrics")
    elif champion.version is not None and champion.version != previous:
        raise SeedVRError(f"champion metrics are for version {champion.version} but the champion is now version {previous}")
    else:
        champion = replace(champion, version=previous)
    decision = decide_promotion(candidate_metrics, gates, champion)

    client = MlflowClient()
    version = register_model(run_id, model_name, artifact_name, tags=_version_tags(decision))
    if decision.promote:
        client.set_registered_model_alias(model_name, CHAMPION, str(version))
    champion = version if decision.promote else previous

    record = {
        **decision.to_dict(),
        "model_name": model_name,
        "version": version,
        "previous_champion": previous,
        "champion": champion,
    }
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
