"""Blind mode on real footage: each method repairs a film-damage case inside the detected mask
and inside the true mask, so the cost of not knowing the mask is measured, not guessed.

Cases are the real-footage benchmark's (:mod:`seedvr.evaluate.real_footage`) whose kinds are
all film damage (scratch, blotch, dust: what the detector finds). The detector runs on the
damaged input once; its probabilities give the mask ``seedvr detect`` reports (``detection``:
its scores) and the wider one ``seedvr repair --mask auto`` repairs (``repair_mask``: how much
of the damage it covers), grown as the caller says, then confirmed by a propagated repair when
asked (``grown_mask``: the scores before confirmation), over as many looks as asked
(:mod:`seedvr.engine.auto_mask`: each look after the first detects and confirms again on the
clip repaired inside what the looks before found). Per method and mask: PSNR of the whole
frame and inside the true mask against the clean clip, and the number of clean pixels the
repair changed (pixels outside the true mask that differ from the input: false detections
repaired; zero with the true mask, by the lossless invariant). The detection's own scores
(:func:`~seedvr.metrics.detection.detection_scores`) go with each case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seedvr.engine.detect import DEFAULT_DILATE, DEFAULT_GROW_THRESHOLD, damage_mask, damage_probabilities
from seedvr.engine.methods import RepairMethod, with_blend
from seedvr.errors import SeedVRError
from seedvr.evaluate.real_footage import DEFAULT_FRAMES, CaseSpec, Progress, RealCase, case_record, load_case
from seedvr.metrics import psnr
from seedvr.metrics.detection import detection_scores
from seedvr.models.detector import DamageDetector
from seedvr.ops.blending import DETECTED_MASK_BLEND
from seedvr.ops.damage_regions import confirmed_region, confirming_region, detection_rims
from seedvr.train.detector import FILM_KINDS

MASKS = ("true_mask", "detected_mask")


@dataclass(frozen=True)
class Confirmation:
    """How a detection is confirmed before it is repaired (:mod:`seedvr.engine.confirm`): the
    pixels ``method`` changes by more than ``tolerance`` grey levels, repairing the detections
    and their rims (:func:`~seedvr.ops.damage_regions.confirmed_region`)."""

    method: RepairMethod
    tolerance: int

    def confirmed(self, frames: np.ndarray, detected: np.ndarray) -> np.ndarray:
        """The pixels of ``detected`` (and of its rims) that the confirming repair of ``frames`` changes."""
        confirming = np.asarray(self.method.repair(frames.copy(), confirming_region(detected)))
        return confirmed_region(detected, detection_rims(detected), frames, confirming, self.tolerance)


@dataclass(frozen=True)
class Looks:
    """How many times blind mode looks, and the method whose repair (blended as the detected
    mask is) each look after the first detects on (:mod:`seedvr.engine.auto_mask`)."""

    count: int
    method: RepairMethod


FIGURES = ("psnr", "psnr_true_mask", "clean_pixels_changed")


def film_cases(specs: Sequence[CaseSpec]) -> list[CaseSpec]:
    """The cases whose every kind is film damage; a clear error when none is left."""
    chosen = [spec for spec in specs if spec.kinds and set(spec.kinds) <= set(FILM_KINDS)]
    if not chosen:
        raise SeedVRError(f"no film-damage case ({', '.join(FILM_KINDS)}) among {', '.join(spec.name for spec in specs)}")
    return chosen


def repair_scores(repaired: np.ndarray, case: RealCase) -> dict:
    """Whole-frame PSNR, PSNR inside the true mask, and clean pixels changed (outside the true mask)."""
    changed = np.any(repaired != case.damaged, axis=-1) & ~case.mask
    return {
        "psnr": psnr(repaired, case.clean),
        "psnr_true_mask": psnr(repaired, case.clean, case.mask),
        "clean_pixels_changed": int(np.count_nonzero(changed)),
    }


def run_blind_case(
    case: RealCase,
    methods: Mapping[str, RepairMethod],
    detector: DamageDetector,
    threshold: float,
    dilate: int,
    scales: Sequence[float],
    progress: Progress | None = None,
    grow_threshold: float | None = None,
    confirmation: Confirmation | None = None,
    looks: Looks | None = None,
) -> dict:
    """Detect the case's damage, then every method with the true mask and with the detected one
    grown by ``grow_threshold`` and ``dilate`` and kept where ``confirmation`` (when given)
    changes it, over ``looks`` (``None``: one): what ``--mask auto`` repairs."""
    probabilities = damage_probabilities(case.damaged, detector, scales)
    record = case_record(case)
    record["detection"] = detection_scores(
        damage_mask(probabilities, threshold, DEFAULT_DILATE, DEFAULT_GROW_THRESHOLD), case.mask
    ).to_dict()
    detected = damage_mask(probabilities, threshold, dilate, grow_threshold)
    if confirmation is not None:
        record["grown_mask"] = detection_scores(detected, case.mask).to_dict()
        detected = confirmation.confirmed(case.damaged, detected)
    for _ in range(1, 1 if looks is None else looks.count):
        repaired = np.asarray(with_blend(looks.method, DETECTED_MASK_BLEND).repair(case.damaged.copy(), detected.copy()))
        found = damage_mask(damage_probabilities(repaired, detector, scales), threshold, dilate, grow_threshold)
        detected = detected | (found if confirmation is None else confirmation.confirmed(repaired, found))
    record["repair_mask"] = detection_scores(detected, case.mask).to_dict()
    record["methods"] = {}
    for name, method in methods.items():
        scores = {}
        # The detected mask is repaired as --mask auto repairs it (DETECTED_MASK_BLEND).
        pairs = ((case.mask, method), (detected, with_blend(method, DETECTED_MASK_BLEND)))
        for label, (mask, repairer) in zip(MASKS, pairs, strict=True):
            scores[label] = repair_scores(np.asarray(repairer.repair(case.damaged.copy(), mask.copy())), case)
        record["methods"][name] = scores
        if progress is not None:
            true, found = scores["true_mask"], scores["detected_mask"]
            progress(
                f"{case.spec.name} {name}: psnr {true['psnr']:.2f} (true mask) vs {found['psnr']:.2f} dB (detected), "
                f"{found['clean_pixels_changed']} clean pixels changed"
            )
    return record


def run_blind_cases(
    specs: Sequence[CaseSpec],
    videos: Mapping[str, Path],
    methods: Mapping[str, RepairMethod],
    detector: DamageDetector,
    threshold: float,
    dilate: int,
    scales: Sequence[float],
    frames: int = DEFAULT_FRAMES,
    progress: Progress | None = None,
    grow_threshold: float | None = None,
    confirmation: Confirmation | None = None,
    looks: Looks | None = None,
) -> list[dict]:
    """Build each film-damage case in turn (one clip in memory at a time) and run it blind."""
    return [
        run_blind_case(
            load_case(spec, videos, frames),
            methods,
            detector,
            threshold,
            dilate,
            scales,
            progress,
            grow_threshold,
            confirmation,
            looks,
        )
        for spec in film_cases(specs)
    ]


def summarize_blind(records: Sequence[dict], methods: Sequence[str]) -> dict:
    """Means over cases per method and mask (PSNR in dB averaged, clean pixels changed per case)."""
    overall = {
        method: {
            label: {figure: float(np.mean([r["methods"][method][label][figure] for r in records])) for figure in FIGURES}
            for label in MASKS
        }
        for method in methods
    }
    return {"overall": overall}


def _shown(value: float | None, digits: int) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def blind_markdown(report: dict) -> str:
    """Per case and overall, true vs detected mask, as markdown tables."""
    lines = [
        "| case | kinds | mask % | recall / precision detected | recall / precision repaired | method | "
        "PSNR true / detected (dB) | PSNR in true mask true / detected (dB) | clean pixels changed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in report["cases"]:
        found, covered = case["detection"], case.get("repair_mask", case["detection"])
        for method, scores in case["methods"].items():
            true, detected = scores["true_mask"], scores["detected_mask"]
            lines.append(
                f"| {case['name']} | {'+'.join(case['kinds'])} | {100 * case['mask_ratio']:.2f} | "
                f"{_shown(found['recall'], 3)} / {_shown(found['precision'], 3)} | "
                f"{_shown(covered['recall'], 3)} / {_shown(covered['precision'], 3)} | {method} | "
                f"{_shown(true['psnr'], 2)} / {_shown(detected['psnr'], 2)} | "
                f"{_shown(true['psnr_true_mask'], 2)} / {_shown(detected['psnr_true_mask'], 2)} | "
                f"{detected['clean_pixels_changed']} |"
            )
    return "\n".join(lines) + "\n"
