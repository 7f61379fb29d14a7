"""Hand-written metrics.json documents for the gate tests (inputs, not results)."""

from __future__ import annotations

from seedvr.evaluate.metrics_file import EvaluationMetrics, KindFigures, MethodFigures

DEFAULT_KINDS = ("scratch", "logo")


def metrics_doc(
    seedvr: tuple[float | None, float | None],
    baselines: dict[str, tuple[float | None, float | None]],
    split: str = "test",
    clips: int = 2,
    frames: int = 16,
    kinds: dict[str, dict[str, float | None]] | None = None,
    steps: int | None = 20,
    model_steps: int | None = 20,
) -> dict:
    """A complete metrics.json document: ``(psnr_mask, ewarp_mask)`` per method.

    ``ewarp`` (whole frame, not gated) repeats ``ewarp_mask``; the figures no gate reads are
    ``null``. Every method gets a ``per_kind`` entry for each of ``DEFAULT_KINDS`` with its
    overall ``psnr_mask``, unless ``kinds`` (``{kind: {method: psnr_mask}}``) says otherwise
    for a kind; a method missing from a kind's mapping has no entry for that kind.
    ``sampler`` records ``steps`` run and the model's own ``model_steps`` (omitted when both
    are ``None``).
    """
    every = {"seedvr": seedvr, **baselines}
    kinds = kinds if kinds is not None else {kind: {name: psnr for name, (psnr, _) in every.items()} for kind in DEFAULT_KINDS}
    methods = {}
    for name, (psnr, ewarp_mask) in every.items():
        per_kind = {
            kind: {
                **dict.fromkeys(KindFigures.model_fields),
                "psnr_mask": by_method[name],
                "ewarp": ewarp_mask,
                "ewarp_mask": ewarp_mask,
                "clips": 1,
                "frames": frames // 2,
            }
            for kind, by_method in kinds.items()
            if name in by_method
        }
        figures = {**dict.fromkeys(MethodFigures.model_fields), "psnr_mask": psnr, "ewarp": ewarp_mask, "ewarp_mask": ewarp_mask}
        methods[name] = {**figures, "per_kind": per_kind}
    document = {"split": split, "clips": clips, "frames": frames, "methods": methods}
    if steps is not None or model_steps is not None:
        document["sampler"] = {"steps": steps, "model_steps": model_steps, "seed": 0}
    return document


def metrics_of(*args, **kwargs) -> EvaluationMetrics:
    """:func:`metrics_doc` as the evaluation's schema reads it."""
    return EvaluationMetrics.from_document(metrics_doc(*args, **kwargs), "the test's metrics")
