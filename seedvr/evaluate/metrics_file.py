"""``metrics.json``, the evaluation's result: one typed schema for its writer and every reader.

:func:`seedvr.evaluate.evaluate_dataset` writes it; the report, the plots, the MLflow logging,
the command line, the promotion gates, the register stage and the training flow's summary
read it, all through :class:`EvaluationMetrics`::

    {"split": "test", "clips": N, "frames": N,
     "sampler": {"steps", "model_steps", "seed"},
     "methods": {"<method>": {"psnr_mask", "ssim_mask", "psnr", "ssim", "ms_ssim", "vif",
                              "ewarp", "ewarp_mask", "tof", "flicker", "lpips",
                              "per_kind": {"<kind>": {"psnr_mask", "ssim_mask", "ewarp",
                                                      "ewarp_mask", "clips", "frames"}}}},
     "gains": {"baseline", "psnr_mask_db", "ssim_mask", "ewarp", "ewarp_mask",
               "per_kind": {"<kind>": {"psnr_mask_db", "ssim_mask", "ewarp", "ewarp_mask"}}},
     "detection": {"detector", "threshold", "dilate", "tolerance",
                   "per_kind": {"<film kind>": {"precision", "recall", "iou", "flagged_fraction",
                                                "clips", "frames"}},
                   "clean": {"flagged_fraction", "clips", "frames"}}}

``null`` marks a figure that is undefined or not computed (``lpips`` without local VGG16
weights). ``ewarp`` is the warping error over the whole frame, ``ewarp_mask`` inside the
repaired region only (:func:`seedvr.metrics.warping_error_in_mask`). ``sampler`` (present
when seedvr was evaluated) holds the sampling steps seedvr ran and the model's own
``num_inference_steps``. ``gains`` (present only when seedvr and a classical method were
evaluated) is seedvr against the best classical method, positive when seedvr is better.
``detection`` (present only when a damage detector was given) scores it on the split's film
damage (:mod:`seedvr.evaluate.dataset_detection`); files without it, written before blind
mode, still read.
How the figures are aggregated: :mod:`seedvr.evaluate.summary`.

The file is a DVC output hashed in ``dvc.lock``: :meth:`EvaluationMetrics.to_json` writes the
same bytes for the same content (fields in the order declared here, two-space indents).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_serializer

from seedvr.errors import SeedVRError, validation_problem

METRICS_FILE = "metrics.json"
# Top-level sections left out of the file, rather than written as null, when they do not apply.
_OPTIONAL_SECTIONS = ("sampler", "gains", "detection")


def _undefined_as_null(value: float | None) -> float | None:
    # JSON has no NaN or infinity: a figure that is not a finite number is undefined.
    return value if value is None or math.isfinite(value) else None


Figure = Annotated[float | None, AfterValidator(_undefined_as_null)]
"""A figure of the evaluation; ``None`` (``null``) when undefined or not computed."""


class _Schema(BaseModel):
    # Strict: a number written as text, or a count as a float, is not what the writer writes.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Figures(_Schema):
    """A block of figures, with the fields beside them that are not figures (counts, names, breakdowns)."""

    NOT_FIGURES: ClassVar[frozenset[str]] = frozenset()

    def figures(self) -> dict[str, float | None]:
        """The figures by name, in the file's order."""
        return self.model_dump(exclude=set(self.NOT_FIGURES))


class KindFigures(_Figures):
    """One method over the clips that show one damage kind."""

    NOT_FIGURES = frozenset({"clips", "frames"})

    psnr_mask: Figure
    ssim_mask: Figure
    ewarp: Figure
    ewarp_mask: Figure
    clips: int
    frames: int


class MethodFigures(_Figures):
    """One method over the whole split (frame-weighted means), and per damage kind."""

    NOT_FIGURES = frozenset({"per_kind"})

    psnr_mask: Figure
    ssim_mask: Figure
    psnr: Figure
    ssim: Figure
    ms_ssim: Figure
    vif: Figure
    ewarp: Figure
    ewarp_mask: Figure
    tof: Figure
    flicker: Figure
    lpips: Figure
    per_kind: dict[str, KindFigures]


class KindGains(_Figures):
    """seedvr minus the baseline on one damage kind, signed so that positive means seedvr is better."""

    psnr_mask_db: Figure
    ssim_mask: Figure
    ewarp: Figure
    ewarp_mask: Figure


class Gains(_Figures):
    """seedvr against the best classical method (``baseline``), positive when seedvr is better."""

    NOT_FIGURES = frozenset({"baseline", "per_kind"})

    baseline: str
    psnr_mask_db: Figure
    ssim_mask: Figure
    ewarp: Figure
    ewarp_mask: Figure
    per_kind: dict[str, KindGains]


class SamplerSettings(_Schema):
    """The sampling seedvr ran: its steps, the model's own ``num_inference_steps``, the noise seed."""

    steps: int
    model_steps: int
    seed: int


class DetectionKindFigures(_Figures):
    """The detector on the clips of one film kind: per-pixel scores pooled over them
    (:func:`seedvr.metrics.detection.detection_scores`, precision and recall with ``tolerance``)."""

    NOT_FIGURES = frozenset({"clips", "frames"})

    precision: Figure
    recall: Figure
    iou: Figure
    flagged_fraction: Figure
    clips: int
    frames: int


class CleanFigures(_Figures):
    """The detector on the clean videos of the same clips: every flagged pixel is a false alarm."""

    NOT_FIGURES = frozenset({"clips", "frames"})

    flagged_fraction: Figure
    clips: int
    frames: int


class DetectionFigures(_Figures):
    """The damage detector evaluated beside the repair methods: where it was, how it decided,
    and its scores per film kind and on clean clips."""

    NOT_FIGURES = frozenset({"detector", "threshold", "dilate", "scales", "tolerance", "per_kind", "clean"})

    detector: str
    threshold: float
    dilate: int
    # Shares of the frame's side detected at (seedvr.engine.detect); files before them: native only.
    scales: list[float] = [1.0]
    tolerance: int
    per_kind: dict[str, DetectionKindFigures]
    clean: CleanFigures | None


class EvaluationMetrics(_Schema):
    """The content of an evaluation's ``metrics.json`` (layout in the module's description)."""

    split: str
    clips: int
    frames: int
    sampler: SamplerSettings | None = None
    methods: dict[str, MethodFigures] = Field(min_length=1)
    gains: Gains | None = None
    detection: DetectionFigures | None = None

    @model_serializer(mode="wrap")
    def _leave_out_absent_sections(self, serialize):
        document = serialize(self)
        for name in _OPTIONAL_SECTIONS:
            if document.get(name) is None:
                document.pop(name, None)
        return document

    def damage_kinds(self) -> list[str]:
        """Every damage kind of any method's ``per_kind``, in first-seen order."""
        kinds: dict[str, None] = {}
        for figures in self.methods.values():
            kinds.update(dict.fromkeys(figures.per_kind))
        return list(kinds)

    def to_json(self) -> str:
        """The file's text. ``json.dumps``, not pydantic's own JSON: the bytes (float digits
        included) are those every earlier evaluation wrote, which ``dvc.lock`` hashes."""
        return json.dumps(self.model_dump(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_document(cls, document: object, source: str | Path) -> EvaluationMetrics:
        """Check a parsed ``metrics.json``; ``source`` names it in the error.

        Raises:
            SeedVRError: "SOURCE is not an evaluation's metrics.json: WHERE: PROBLEM".
        """
        try:
            return cls.model_validate(document)
        except ValidationError as error:
            raise SeedVRError(f"{source} is not an evaluation's metrics.json: {validation_problem(error)}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> EvaluationMetrics:
        """Read and check an evaluation's ``metrics.json``; every problem is one SeedVRError line."""
        path = Path(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise SeedVRError(f"evaluation metrics not found: {path}") from None
        except OSError as error:
            raise SeedVRError(f"cannot read {path}: {error.strerror}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise SeedVRError(f"{path} is not an evaluation's metrics.json: not valid JSON ({error})") from None
        return cls.from_document(document, path)
