"""``seedvr repair --mask auto``: detect the film damage first, then repair inside what was found.

The simplest correct composition of two streaming passes: :func:`~seedvr.engine.detect.detect_video`
writes the detected mask under a temporary name next to the output, the normal streaming
:func:`~seedvr.engine.repair.repair_video` reads it, and only when the repair succeeded is the
mask moved to ``<output stem>.mask.mkv`` beside the output, so a person can check what was
repaired. On any failure neither the mask nor the output is left behind. Pixels outside the
detected mask are the input's, byte for byte, as in every repair.

What is repaired is wider than what ``seedvr detect`` reports by default: each detection grown
to its extent (``grow_threshold``, params.yaml's ``detector.auto_grow_threshold``;
:mod:`seedvr.ops.damage_regions`). Detection is scored pixel for pixel; a repair is judged
inside the damage, where a pixel missed keeps its damage whole.

Blind mode looks more than once (``looks``, params.yaml's ``detector.looks``). Damage next to
damage stands out once that is repaired: the faint edge of a line beside its core, a blotch's
soft rim, a scratch in frame t that frames t-1 and t+1 carried too, so the temporal cue saw
nothing there. So each look after the first repairs the input inside the region the looks
before confirmed (``propagate``, blended as the final repair is), detects and confirms again on
that repair, and adds what it finds; the final repair then runs on the input, inside the union.
Each look streams as the first does and costs a detection and two propagated repairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from seedvr.config import MAX_DETECTION_LOOKS, REPAIR_DEFAULTS
from seedvr.engine.confirm import CONFIRMING_METHOD, check_confirm_tolerance, confirm_mask_video, scratch_beside
from seedvr.engine.detect import (
    AUTO_GROW_THRESHOLD,
    DEFAULT_DILATE,
    DEFAULT_SCALES,
    DEFAULT_THRESHOLD,
    DETECTOR_DEFAULTS,
    check_detection_options,
    check_scales,
    detect_video,
    load_detector,
)
from seedvr.engine.repair import RepairReport, check_repair_paths, repair_video
from seedvr.engine.streaming import READ_FRAMES, check_chunking
from seedvr.errors import SeedVRError
from seedvr.io import MaskWriter, PendingOutput, iter_mask_chunks, probe
from seedvr.io.atomic import check_outputs_apart
from seedvr.models.detector import DamageDetector
from seedvr.ops.blending import DETECTED_MASK_BLEND
from seedvr.pipeline.detector_folder import detector_of_model

#: Grey levels a propagated repair must change a detected pixel by for it to be repaired
#: (params.yaml ``detector.confirm_tolerance``; ``None``: every detected pixel is).
CONFIRM_TOLERANCE = DETECTOR_DEFAULTS.confirm_tolerance
#: What the confirming repair is given of the final repair's options: how it streams and how
#: large a window it repairs at once; the method, model and output settings are its own.
_CONFIRMING_OPTIONS = ("chunk", "overlap", "max_side", "crop", "crop_margin", "tile_pixels")
#: How many times blind mode looks for damage (params.yaml ``detector.looks``).
DETECTION_LOOKS = DETECTOR_DEFAULTS.looks
#: The ``--mask`` value that asks for detection instead of a mask file.
AUTO_MASK = "auto"
#: Suffix of the detected mask kept beside the output (a lossless FFV1 grey video).
DETECTED_MASK_SUFFIX = ".mask.mkv"


def detected_mask_path(output_path: str | Path) -> Path:
    """Where the detected mask of ``output_path`` is kept: ``<output stem>.mask.mkv`` beside it."""
    output_path = Path(output_path)
    stem = output_path.stem if output_path.suffix else output_path.name
    return output_path.with_name(stem + DETECTED_MASK_SUFFIX)


def _confirming_options(repair_options: dict) -> dict:
    return {name: value for name, value in repair_options.items() if name in _CONFIRMING_OPTIONS}


def check_looks(looks: int) -> None:
    """A whole number of looks in [1, :data:`~seedvr.config.MAX_DETECTION_LOOKS`]."""
    if isinstance(looks, bool) or not isinstance(looks, int) or not 1 <= looks <= MAX_DETECTION_LOOKS:
        raise SeedVRError(f"--looks must be a whole number in [1, {MAX_DETECTION_LOOKS}], got {looks!r}")


def _look(source: Path, target: Path, detector: DamageDetector, options: dict, tolerance, confirming: dict) -> dict:
    """Detect on ``source``, confirm (unless ``tolerance`` is ``None``), write the region to ``target``."""
    if tolerance is None:
        return {**detect_video(source, target, detector, **options), "confirmation": None}
    # The detections before confirmation, beside the mask; never kept.
    detected = scratch_beside(target, "detected")
    try:
        found = detect_video(source, detected.temp, detector, **options)
        confirmation = confirm_mask_video(source, detected.temp, target, tolerance, **confirming)
    finally:
        detected.discard()
    return {**found, "confirmation": confirmation}


def _union_of_masks(first: Path, second: Path, output_mask: Path, info) -> float:
    """Write ``first | second`` (mask videos of ``info``'s size) to ``output_mask``; the share of
    the pixels ``second`` adds."""
    added = 0
    chunks = zip(iter_mask_chunks(first, READ_FRAMES, info), iter_mask_chunks(second, READ_FRAMES, info), strict=True)
    with MaskWriter(output_mask, info.fps, info.width, info.height) as writer:
        for before, found in chunks:
            writer.write(before | found)
            added += int(np.count_nonzero(found & ~before))
    return added / max(1, info.frames * info.width * info.height)


def _look_again(
    source: Path, region: Path, target: Path, detector: DamageDetector, options: dict, tolerance, confirming: dict
) -> dict:
    """One more look: ``source`` repaired inside ``region`` as a blind repair repairs it
    (``propagate``), detected and confirmed on that repair; ``region`` and what this look found
    written to ``target``."""
    repaired, found = scratch_beside(target, "look-repaired"), scratch_beside(target, "look-found")
    try:
        repair_video(
            source,
            region,
            repaired.temp,
            method=CONFIRMING_METHOD,
            blend=DETECTED_MASK_BLEND,
            allow_empty_mask=True,
            **confirming,
        )
        look = _look(repaired.temp, found.temp, detector, options, tolerance, confirming)
        look["added_fraction"] = _union_of_masks(region, found.temp, target, probe(source))
    finally:
        found.discard()
        repaired.discard()
    return look


def detect_repair_region(
    input_path: str | Path,
    output_mask: str | Path,
    detector: DamageDetector,
    threshold: float = DEFAULT_THRESHOLD,
    dilate: int = DEFAULT_DILATE,
    scales: Sequence[float] = DEFAULT_SCALES,
    grow_threshold: float | None = AUTO_GROW_THRESHOLD,
    confirm_tolerance: int | None = CONFIRM_TOLERANCE,
    looks: int = DETECTION_LOOKS,
    **confirming_options,
) -> dict:
    """Write to ``output_mask`` the region a blind repair of ``input_path`` repairs: the
    detections grown to their extent, then confirmed by a propagated repair
    (:mod:`seedvr.engine.confirm`; ``confirm_tolerance`` ``None``: not confirmed), over
    ``looks`` looks (see the module doc).

    ``confirming_options`` go to the confirming repairs (chunk, overlap, max_side, crop...).
    Returns what the first look's detection found (``flagged_fraction``: the share of pixels
    detected and grown; ``temporal_cue``), its ``confirmation`` (``None`` when not confirmed),
    and ``looks``: per look, the share of pixels it flagged and, after the first, added.
    """
    input_path, output_mask = Path(input_path), Path(output_mask)
    check_looks(looks)
    options = {"threshold": threshold, "dilate": dilate, "scales": scales, "grow_threshold": grow_threshold}
    # The region after each look but the last, beside the mask; never kept.
    regions = [scratch_beside(output_mask, f"look{look}") for look in range(1, looks)]
    targets = [region.temp for region in regions] + [output_mask]
    try:
        found = [_look(input_path, targets[0], detector, options, confirm_tolerance, confirming_options)]
        for before, target in pairwise(targets):
            found.append(_look_again(input_path, before, target, detector, options, confirm_tolerance, confirming_options))
    finally:
        for region in regions:
            region.discard()
    first = found[0]
    return {
        "flagged_fraction": first["flagged_fraction"],
        "temporal_cue": first["temporal_cue"],
        "confirmation": first["confirmation"],
        "looks": [{key: look[key] for key in ("flagged_fraction", "added_fraction") if key in look} for look in found],
    }


def repair_with_detected_mask(
    input_path: str | Path,
    output_path: str | Path,
    detector: str | Path | DamageDetector | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    dilate: int = DEFAULT_DILATE,
    scales: Sequence[float] = DEFAULT_SCALES,
    grow_threshold: float | None = AUTO_GROW_THRESHOLD,
    confirm_tolerance: int | None = CONFIRM_TOLERANCE,
    looks: int = DETECTION_LOOKS,
    report_path: str | Path | None = None,
    **repair_options,
) -> RepairReport:
    """Detect the damage of ``input_path``, repair inside it into ``output_path``; keep the mask beside it.

    ``detector``: a loaded detector, a detector folder, or ``None``: the one a registered
    ``model`` (``models:/...``) carries, else the shipped one.
    ``confirm_tolerance``, ``looks``: see :func:`detect_repair_region`.
    ``repair_options`` are :func:`repair_video`'s (method, model, chunk, ...); the repair's
    ``blend`` defaults to :data:`~seedvr.ops.blending.DETECTED_MASK_BLEND`. The report's
    ``mask`` is the kept mask; ``details["detection"]`` says what detection found.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    mask_path = detected_mask_path(output_path)
    check_detection_options(threshold, dilate, grow_threshold)
    check_scales(scales)
    check_confirm_tolerance(confirm_tolerance)
    check_looks(looks)
    check_repair_paths(input_path, mask_path, output_path, None if report_path is None else Path(report_path))
    check_outputs_apart({"the detected mask": mask_path}, {"the input": input_path})
    check_chunking(repair_options.get("chunk", REPAIR_DEFAULTS.chunk), repair_options.get("overlap", REPAIR_DEFAULTS.overlap))
    if detector is None:
        detector = detector_of_model(repair_options.get("model"))
    loaded = detector if isinstance(detector, DamageDetector) else load_detector(detector)
    pending = PendingOutput(mask_path)
    try:
        detection = detect_repair_region(
            input_path,
            pending.temp,
            loaded,
            threshold=threshold,
            dilate=dilate,
            scales=scales,
            grow_threshold=grow_threshold,
            confirm_tolerance=confirm_tolerance,
            looks=looks,
            **_confirming_options(repair_options),
        )
        # A clean video is detected clean: its empty mask repairs nothing, the frames pass through.
        report = repair_video(
            input_path, pending.temp, output_path, allow_empty_mask=True, **{"blend": DETECTED_MASK_BLEND, **repair_options}
        )
    except BaseException:
        pending.discard()
        raise
    pending.commit()
    report.mask = str(mask_path)
    report.details = {**report.details, "detection": detection}
    if report_path is not None:
        report.write(report_path)
    return report
