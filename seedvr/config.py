"""One typed schema for ``params.yaml``.

Every stage (DVC stage, Prefect task, CLI command) reads its own section from
:class:`Params`, so a typo or an absurd value is rejected once, up front, with a readable
message instead of failing halfway through a stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from seedvr.errors import SeedVRError, validation_problem
from seedvr.method_catalog import METHOD_NAMES

DAMAGE_KINDS: tuple[str, ...] = ("scratch", "blotch", "dust", "stroke", "object", "logo")
# Where the training diffusion error is measured (train.prediction_type). The denoiser always
# predicts the clean clip x0 (its own prediction_type is "sample"); "epsilon" and
# "v_prediction" convert its x0 error into the noise or v error, i.e. weight the timesteps as
# a noise- or v-predicting model's loss would (seedvr.train.module.diffusion_error).
PREDICTION_TYPES: tuple[str, ...] = ("sample", "epsilon", "v_prediction")
# Blind mode looks for damage at most this many times (each look one more detection and two
# more propagated repairs of the whole clip).
MAX_DETECTION_LOOKS = 4


def detection_scales(scales) -> tuple[float, ...]:
    """``scales`` (numbers, or text such as ``"1,0.4"``) as a tuple of floats when they are one or
    more distinct shares in (0, 1]; else ValueError."""
    if isinstance(scales, str):
        scales = scales.split(",")
    try:
        values = tuple(float(scale) for scale in scales)
    except (TypeError, ValueError):
        raise ValueError(f"scales must be numbers in (0, 1], got {scales!r}") from None
    if not values or any(not 0.0 < value <= 1.0 for value in values) or len(set(values)) != len(values):
        raise ValueError(f"scales must be one or more distinct numbers in (0, 1], got {list(values)}")
    return values


def ordered_mask_ratio(bounds: tuple[float, float]) -> tuple[float, float]:
    """A mask-ratio range ``(low, high)`` with ``0 < low <= high < 1`` (else ``ValueError``)."""
    low, high = bounds
    if not 0.0 < low <= high < 1.0:
        raise ValueError(f"mask_ratio must satisfy 0 < low <= high < 1, got {low}:{high}")
    return bounds


class Section(BaseModel):
    """Base for every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceDataParams(Section):
    """Procedural source clips (``seedvr synth``), tracked by DVC in ``data/``."""

    dir: str = "data"
    clips: int = Field(8, ge=1, le=10_000)
    frames: int = Field(16, ge=1, le=100_000)
    width: int = Field(96, ge=8, le=8192)
    height: int = Field(64, ge=8, le=8192)
    fps: str = "24"
    seed: int = 0


class DamageParams(Section):
    """Synthetic damage applied to the source clips (``seedvr damage``)."""

    out: str = "work/damaged"
    kinds: tuple[str, ...] = DAMAGE_KINDS
    mask_ratio: tuple[float, float] = (0.01, 0.25)
    val_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    seed: int = 1

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(kinds) - set(DAMAGE_KINDS))
        if unknown or not kinds:
            raise ValueError(f"unknown damage kind(s) {unknown}; choose from {list(DAMAGE_KINDS)}")
        return kinds

    @field_validator("mask_ratio")
    @classmethod
    def _ordered_ratio(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        return ordered_mask_ratio(bounds)

    @model_validator(mode="after")
    def _room_for_training(self) -> DamageParams:
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError("val_fraction + test_fraction must leave clips for training")
        return self


class ValidateParams(Section):
    """Bounds the Great Expectations suites check the damaged dataset against."""

    min_frames: int = Field(2, ge=1)
    mask_ratio: tuple[float, float] = (0.001, 0.5)
    # How far the mask coverage measured from the mask file may drift from the manifest's
    # mask_ratio (CSV rounding, a regenerated mask): beyond it the manifest lies.
    mask_ratio_tolerance: float = Field(0.005, ge=0.0, lt=1.0)


class LossParams(Section):
    """Weights of the SeedVR multi-term loss (:class:`seedvr.losses.SeedVRLoss`).

    ``vgg16_weights`` points at a torchvision-format ImageNet VGG16 state dict (for example
    ``vgg16-397923af.pth``); when it is unset or the file is absent, the perceptual and style
    terms use the weight-free structural backend and the run records which one was used.
    """

    content: float = Field(1.0, ge=0.0)
    perceptual: float = Field(0.5, ge=0.0)
    style: float = Field(0.2, ge=0.0)
    # 0.3 until 2026-12-06: once propagation averaged both passes (smoother fill), the make-run
    # model fine-tuned at 0.3 warped 0.017 (x1e-3) more than `propagate` inside the mask on its
    # split and failed its temporal gate; 1.0 left +0.001, 3.0 -0.021, at the same PSNR gain.
    temporal: float = Field(3.0, ge=0.0)
    edge: float = Field(0.1, ge=0.0)
    adversarial: float = Field(0.0, ge=0.0)
    adversarial_mode: Literal["hinge", "non_saturating"] = "hinge"
    edge_band: int = Field(3, ge=1, le=64)
    vgg16_weights: str | None = None


class ModelParams(Section):
    """Which size preset to build and how the hierarchical schedule samples."""

    preset: str = "tiny"
    sampler: Literal["ddim", "dpm-solver"] = "ddim"
    num_inference_steps: int = Field(2, ge=1, le=1000)
    scales: tuple[float, ...] = (0.25, 0.5, 1.0)
    strengths: tuple[float, ...] = (0.3, 0.5, 0.0)
    coarse_from_noise: bool = False


class TrainParams(Section):
    """Fine-tuning: data sampling, optimisation and the Lightning trainer."""

    init: str = "auto"  # "scratch", "auto" (the champion when one exists), a pipeline folder, models:/NAME@ALIAS
    out: str = "work/model"
    seed: int = 0
    crop_size: int = Field(32, ge=16, le=4096)
    clip_frames: int = Field(8, ge=2, le=256)
    batch_size: int = Field(4, ge=1, le=1024)
    samples_per_epoch: int = Field(64, ge=1)
    max_epochs: int = Field(20, ge=1)
    max_steps: int = -1
    max_minutes: float | None = Field(None, gt=0)
    lr: float = Field(1e-4, gt=0, lt=1)
    weight_decay: float = Field(1e-5, ge=0)
    gradient_clip: float = Field(1.0, gt=0)
    diffusion_weight: float = Field(1.0, ge=0)
    diffusion_mask_weight: float = Field(5.0, ge=1)
    prediction_type: Literal[PREDICTION_TYPES] = "sample"  # see PREDICTION_TYPES: the loss's space, not the model's output
    # Share of training samples noised from the propagation guess (as sampling starts) rather than the truth.
    guess_start_probability: float = Field(0.8, ge=0.0, le=1.0)
    precision: str = "32-true"
    accelerator: str = "cpu"
    devices: int | str = 1
    strategy: str = "auto"  # auto, ddp, ddp_spawn, fsdp
    num_workers: int = Field(2, ge=0)  # sample-preparing processes; see params.yaml
    val_clips: int = Field(4, ge=1)
    val_steps: int = Field(6, ge=1)
    resume: str | None = None


class EvaluateParams(Section):
    """Evaluation of repair methods over one split of the damaged dataset (``seedvr evaluate``)."""

    split: Literal["train", "val", "test"] = "test"
    methods: tuple[str, ...] = METHOD_NAMES
    out: str = "work/eval"
    # None: the model's own num_inference_steps, exactly what batch repair runs. Any other
    # value measures a sampler that does not ship, and the promotion gates refuse it.
    steps: int | None = Field(None, ge=1, le=1000)
    strips: int = Field(3, ge=0, le=100)  # how many clips get a PNG sample strip
    seed: int = 0
    max_clips: int | None = Field(6, ge=1)  # None: every clip of the split

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(methods) - set(METHOD_NAMES))
        if unknown or not methods:
            raise ValueError(f"unknown method(s) {unknown}; choose from {list(METHOD_NAMES)}")
        return methods


class RepairParams(Section):
    """How a video is repaired: ``seedvr repair``, the batch-repair flow, the served model.

    Every function that repairs takes these as parameters; their defaults are the values
    here (:data:`REPAIR_DEFAULTS`), so params.yaml's ``repair`` section is what ships.
    """

    chunk: int = Field(32, ge=1)  # frames repaired together; memory does not grow with video length
    overlap: int = Field(8, ge=0)  # frames shared by consecutive chunks, cross-faded inside the mask
    crf: int = Field(18, ge=0, le=63)  # quality of lossy (.mp4, .webm) outputs; lower is better
    # Longer side at which optical flow is measured for propagation and the model's conditions.
    flow_max_side: int = Field(256, ge=8)
    crop_margin: int = Field(32, ge=0)  # pixels of context around the damage with --crop
    # Largest area (pixels) a method is given at once; larger windows are repaired in tiles.
    tile_pixels: int = Field(131072, ge=16384)
    adapt_frames: int = Field(64, ge=1)  # frames --adapt learns from

    @model_validator(mode="after")
    def _overlap_inside_chunk(self) -> RepairParams:
        if self.overlap >= self.chunk:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than chunk ({self.chunk})")
        return self


REPAIR_DEFAULTS = RepairParams()


Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A fraction between 0 and 1 (a score or a share of pixels)."""


class RegisterParams(Section):
    """Model registry and promotion gates (:mod:`seedvr.registry.promotion`).

    A new version always gets the ``challenger`` alias; ``champion`` moves to it only when
    every gate passes on the same evaluation set. A gate must be able to fail: an untrained
    pipeline reproduces ``propagate`` exactly, so the margin over ``propagate`` must be
    strictly positive (0 would let it through on a tie).
    """

    model_name: str = Field("seedvr-repair", min_length=1)
    experiment: str = Field("seedvr-repair", min_length=1)
    # psnr_mask (dB) the candidate must gain over propagate, its own starting point (> 0).
    min_gain_over_propagate_db: float = Field(0.05, gt=0.0, allow_inf_nan=False)
    # On every damage kind (and on all clips), how far (dB) the candidate's psnr_mask may fall
    # below the best other method's on that kind.
    max_kind_regression_db: float = Field(0.5, ge=0.0, allow_inf_nan=False)
    # How much the candidate's ewarp_mask (x1e-3, inside the mask) may exceed propagate's (0 = not worse).
    max_ewarp_regression: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    # How far (dB) below the current champion's psnr_mask the candidate may fall.
    champion_tolerance_db: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    # The detector evaluated with the candidate (metrics.json `detection`): per film kind, the
    # least recall and precision (1 px of slack) it must reach, and the largest fraction of
    # the clean clips' pixels it may flag (:mod:`seedvr.registry.detection_gate`).
    min_detection_recall: dict[str, Share] = {"scratch": 0.9, "blotch": 0.9, "dust": 0.85}
    min_detection_precision: dict[str, Share] = {"scratch": 0.9, "blotch": 0.8, "dust": 0.85}
    max_clean_flagged: Share = 0.001

    @model_validator(mode="before")
    @classmethod
    def _renamed_gate(cls, values):
        if isinstance(values, dict) and "min_gain_psnr_mask_db" in values:
            raise ValueError(
                "min_gain_psnr_mask_db was replaced by min_gain_over_propagate_db (a gain over propagate, "
                "which must be > 0) and max_kind_regression_db (per damage kind, against the best other method)"
            )
        return values


class PretrainParams(Section):
    """The shipped base model (``seedvr pretrain``): data at real-footage scale, longer training.

    Source clips are rendered over every photograph at hand (scikit-image's and the real
    photographs of the footage cache), damaged with every kind, and the full model is trained
    on them; the ``train``/``loss``/``model`` sections supply everything else.
    ``footage_clips`` clips of real video join them: frames of the footage videos that no
    real-footage benchmark case reads, where motion, noise and texture are those of real
    footage. ``sway_share`` of the procedural clips also sway (non-rigid motion, as foliage:
    :class:`~seedvr.data.synth.SwaySpec`). ``init`` is where training starts: ``scratch``, or a pipeline folder whose
    weights it continues (a second leg on other data).
    """

    out: str = "models/seedvr-base"
    work: str = "work/pretrain"
    init: str = "scratch"
    clips: int = Field(48, ge=3)
    sway_share: float = Field(0.0, ge=0.0, le=1.0)
    footage_clips: int = Field(0, ge=0)
    frames: int = Field(24, ge=2)
    width: int = Field(192, ge=16)
    height: int = Field(128, ge=16)
    seed: int = Field(7, ge=0)
    crop_size: int = Field(64, ge=16)
    clip_frames: int = Field(8, ge=2)
    batch_size: int = Field(4, ge=1)
    samples_per_epoch: int = Field(128, ge=1)
    max_epochs: int = Field(1000, ge=1)
    max_minutes: float = Field(45.0, gt=0)
    lr: float = Field(2e-4, gt=0, lt=1)


#: Film damage kinds a detector learns (the same names as the damage generators').
FilmKind = Literal["scratch", "blotch", "dust"]
#: Cue maps a detector reads: the four luma cues, or the colour line as well
#: (seedvr.ops.damage_cues.CUE_COUNTS; a test keeps them equal).
CueChannels = Literal[4, 5]


class DetectorLeg(Section):
    """One more leg of ``seedvr detect-train``: it continues the previous leg's weights on new clips
    (drawn from its own ``seed``); every other field it sets replaces the detector section's."""

    seed: int = Field(ge=0)
    steps: int | None = Field(None, ge=1)
    lr: float | None = Field(None, gt=0, lt=1)
    crop_size: int | None = Field(None, ge=16)
    sway_share: float | None = Field(None, ge=0.0, le=1.0)
    faint_share: float | None = Field(None, ge=0.0, le=1.0)
    repainted_share: float | None = Field(None, ge=0.0, le=1.0)
    repainted_kinds: tuple[FilmKind, ...] | None = None
    cue_channels: CueChannels | None = None
    visible_level: int | None = Field(None, ge=0, le=255)
    footage_clips: int | None = Field(None, ge=0)
    batch_size: int | None = Field(None, ge=1)
    max_minutes: float | None = Field(None, gt=0)

    @model_serializer(mode="wrap")
    def _only_what_it_sets(self, handler: SerializerFunctionWrapHandler) -> dict:
        # A field left unset keeps the section's value: written out, a leg names only what it changes.
        return {key: value for key, value in handler(self).items() if value is not None}

    def applied_to(self, params: DetectorParams) -> DetectorParams:
        """``params`` as this leg trains with them."""
        return params.model_copy(update=self.model_dump())


class DetectorParams(Section):
    """The damage detector (``seedvr detect-train``, shipped in ``models/seedvr-detector``).

    Trained on the project's own film damage (scratch, blotch, dust; the masks are the labels)
    painted on procedural clips rendered at ``width`` x ``height`` (``small_share`` of them at
    ``small_size``, where generated damage is drawn thinner, so small frames are met at their own
    scale), plus clean clips so false positives are learned against. ``channels`` is the net's
    width at full resolution. ``threshold``, ``grow_threshold``, ``dilate`` and ``scales``
    are the defaults of ``seedvr detect`` (the mask its scores and gates are about); ``scales``
    are the shares of a frame's side it is detected at (see :mod:`seedvr.engine.detect`).
    ``seedvr repair --mask auto`` and batch repair of a video without a mask repair inside the
    detections grown down to ``auto_grow_threshold`` (see :mod:`seedvr.ops.damage_regions`): a
    damaged pixel left out costs more than a clean one repaired; of those, only the pixels a
    propagated repair changes by more than ``confirm_tolerance`` grey levels (``None``: all; see
    :mod:`seedvr.engine.confirm`), looked for ``looks`` times: each look after the first detects
    and confirms again on the clip repaired inside what the looks before found, and adds what it
    finds (:mod:`seedvr.engine.auto_mask`). ``faint_share`` of the damaged clips carry their damage at a
    fraction of its opacity (:data:`~seedvr.train.detector.FAINT_OPACITY`), ``repainted_share``
    in a style drawn afresh per kind (any colour, flat or grainy, hard or soft edges:
    :meth:`~seedvr.data.damage.base.PaintStyle.repainted`) for the ``repainted_kinds``; a damaged pixel is
    labelled damage only where it differs from the clean picture by ``visible_level`` grey levels
    or more (0: wherever the mask is). ``cue_channels``: the cue maps a fresh detector reads
    (:data:`~seedvr.ops.damage_cues.CUE_NAMES`: the four luma cues, or the colour line as well);
    a detector continued from one that reads fewer is widened to them, never narrowed. Training
    runs in legs: the first with this section's settings, from scratch or from the detector
    folder ``init``, then each of ``legs`` in turn.
    """

    out: str = "work/detector"
    init: str | None = None
    clips: int = Field(160, ge=2)
    heldout_clips: int = Field(8, ge=1)
    frames: int = Field(8, ge=3)
    width: int = Field(432, ge=16)
    height: int = Field(240, ge=16)
    small_size: tuple[int, int] | None = (96, 64)
    small_share: float = Field(0.5, ge=0.0, lt=1.0)
    channels: int = Field(24, ge=4, le=128)
    mask_ratio: tuple[float, float] = (0.005, 0.06)
    clean_share: float = Field(0.3, ge=0.0, lt=1.0)
    destroyed_share: float = Field(0.0, ge=0.0, le=1.0)
    sway_share: float = Field(0.0, ge=0.0, le=1.0)
    faint_share: float = Field(0.0, ge=0.0, le=1.0)
    repainted_share: float = Field(0.0, ge=0.0, le=1.0)
    repainted_kinds: tuple[FilmKind, ...] = ("scratch", "blotch", "dust")
    cue_channels: CueChannels = 4
    visible_level: int = Field(0, ge=0, le=255)
    footage_clips: int = Field(0, ge=0)
    footage_sources: tuple[str, ...] = ("vtest", "box", "cup")
    crop_size: int = Field(96, ge=16)
    batch_size: int = Field(8, ge=1)
    steps: int = Field(10000, ge=1)
    max_minutes: float | None = Field(42.0, gt=0)
    lr: float = Field(2e-3, gt=0, lt=1)
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    grow_threshold: float | None = Field(None, gt=0.0, lt=1.0)
    dilate: int = Field(0, ge=0, le=32)
    auto_grow_threshold: float = Field(0.05, gt=0.0, lt=1.0)
    confirm_tolerance: int | None = Field(10, ge=0, le=254)
    looks: int = Field(2, ge=1, le=MAX_DETECTION_LOOKS)
    scales: tuple[float, ...] = (1.0,)
    seed: int = Field(0, ge=0)
    legs: tuple[DetectorLeg, ...] = (
        DetectorLeg(seed=1, steps=6000, lr=7e-4),
        DetectorLeg(seed=2, steps=3000, lr=5e-4, crop_size=128),
        DetectorLeg(seed=4, steps=2000, lr=2e-4, crop_size=160, sway_share=0.25),
        DetectorLeg(seed=7, steps=2000, lr=2e-4, crop_size=160, sway_share=0.25, footage_clips=40),
        DetectorLeg(
            seed=12,
            steps=2000,
            lr=3e-4,
            crop_size=160,
            sway_share=0.25,
            footage_clips=40,
            cue_channels=5,
            repainted_share=0.5,
            repainted_kinds=("scratch",),
        ),
    )
    # The pipeline's train_detector stage: the detector it starts from, its steps and rate, and an
    # optional wall-clock ceiling (None: none). A stage stopped by the clock gives a different
    # detector on a busier machine, and dvc.lock with it: the pipeline is bounded by steps alone.
    finetune_from: str = "models/seedvr-detector"
    finetune_steps: int = Field(300, ge=1)
    finetune_lr: float = Field(5e-5, gt=0, lt=1)
    finetune_minutes: float | None = Field(None, gt=0)

    @field_validator("mask_ratio")
    @classmethod
    def _ordered_ratio(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        return ordered_mask_ratio(bounds)

    @field_validator("small_size")
    @classmethod
    def _small_size_in_range(cls, size: tuple[int, int] | None) -> tuple[int, int] | None:
        if size is not None and min(size) < 16:
            raise ValueError(f"detector.small_size must be at least 16 x 16, got {size[0]} x {size[1]}")
        return size

    @field_validator("scales")
    @classmethod
    def _scales_in_range(cls, scales: tuple[float, ...]) -> tuple[float, ...]:
        return detection_scales(scales)

    @model_validator(mode="after")
    def _legs_draw_new_clips(self) -> DetectorParams:
        seeds = [self.seed, *(leg.seed for leg in self.legs)]
        if len(set(seeds)) < len(seeds):
            raise ValueError(f"detector.legs: each leg needs a seed of its own (new clips), got seeds {seeds}")
        return self

    @model_validator(mode="after")
    def _grow_below_threshold(self) -> DetectorParams:
        for name in ("grow_threshold", "auto_grow_threshold"):
            value = getattr(self, name)
            if value is not None and value > self.threshold:
                raise ValueError(f"detector.{name} ({value}) must be at most detector.threshold ({self.threshold})")
        return self


class Params(Section):
    """The whole of ``params.yaml``."""

    data: SourceDataParams = SourceDataParams()
    damage: DamageParams = DamageParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")
    model: ModelParams = ModelParams()
    train: TrainParams = TrainParams()
    loss: LossParams = LossParams()
    evaluate: EvaluateParams = EvaluateParams()
    repair: RepairParams = REPAIR_DEFAULTS
    pretrain: PretrainParams = PretrainParams()
    detector: DetectorParams = DetectorParams()
    # `register_` with an alias, like `validate_`: `register` would shadow ABCMeta.register.
    register_: RegisterParams = Field(RegisterParams(), alias="register")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and check ``params.yaml``; a missing file or a bad value is a :class:`SeedVRError`."""
    path = Path(path)
    if not path.is_file():
        raise SeedVRError(f"params file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SeedVRError(f"{path} is not valid YAML: {error}") from None
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise SeedVRError(f"{path}: {validation_problem(error)}") from None
