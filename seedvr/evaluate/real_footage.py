"""Quality on real footage: every repair method on the same damaged clips of real video.

The synthetic test split trains and gates the model; this is the judge (design, section 4:
"Where the value must show"). The clips come from OpenCV's sample videos
(:mod:`seedvr.data.footage`), filmed or animated by people outside the project.

A case (:class:`CaseSpec`) is a fixed window of consecutive frames of one source video,
centre-cropped to the target's aspect ratio and reduced with ``INTER_AREA`` (never enlarged:
a source smaller than the target is used at its native size, and the case says so), then
damaged with a fixed seed:

* the project's own damage kinds (:data:`seedvr.config.DAMAGE_KINDS`), masks drawn by
  :func:`seedvr.data.damage.draw_damage_masks` (``object`` silhouettes walk across the frame,
  so they are the moving object-shaped holes);
* :data:`STATIC_SQUARE`: one square that never moves, placed where the scene moves most
  (a logo over action: nothing behind it is ever seen, yet the content keeps changing).

**The input never holds a true pixel under the mask.** The damaged pixels are first replaced
by mid grey plus noise, then the kind's damage is painted over that (some kinds, such as
logos, are translucent: painted over the true frame they would let the answer through).
Both steps read only the mask and a seeded generator, so the input under the mask is the
same whatever the true frame is (:func:`destroy_under_mask`, tested).

Scores per method and case (:func:`score_repair`), all from :mod:`seedvr.metrics` and the
evaluation's per-frame series:

``psnr_mask``, ``ssim_mask``
    PSNR (dB, capped at :data:`seedvr.metrics.PSNR_CAP_DB`) and SSIM over the masked pixels.
``ewarp``
    :func:`seedvr.metrics.warping_error` of the whole frame (x1e-3), flow and occlusion from
    the clean clip.
``ewarp_mask``
    The same residual restricted to the repaired region, :func:`seedvr.metrics.warping_error_in_mask`
    (pixels damaged in frame ``t`` or whose match in ``t+1`` is damaged, non-occluded,
    ground-truth flow; x1e-3).
``ewarp_mask_off_truth``
    How far ``ewarp_mask`` lies from the clean clip's own (``truth`` in each case record: the
    residual of the truth under the same flows). The truth is not steady where the flow cannot
    follow it (foliage, fast motion): on ``tree-dust`` the clean clip scores 8.8 where
    ``propagate`` scores 6.5, so a lower ``ewarp_mask`` there means smoother than the truth,
    and this distance tells steadier from blurrier.
``sec_per_frame``
    Seconds of the repair call alone (model loading excluded) over the clip's frames.
``exact_outside_mask``
    Whether the output equals the input outside the mask, byte for byte (the lossless
    invariant every method promises).

Aggregates (:func:`summarize_cases`): means over cases of the per-case values (dB averaged,
as :mod:`seedvr.evaluate.summary` does), per damage kind (a case counts for every kind it
holds) and overall; gains of ``seedvr`` against ``propagate`` and against the best other
method, by :func:`seedvr.evaluate.summary.compute_gains` (positive = seedvr better).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage import PaintStyle, draw_damage_masks
from seedvr.data.damage.destroy import destroy_under_mask
from seedvr.data.footage import file_sha256
from seedvr.engine.methods import RepairMethod
from seedvr.errors import SeedVRError
from seedvr.evaluate.summary import MODEL_METHOD, compute_gains
from seedvr.io import clip_start, probe, read_clip
from seedvr.metrics import psnr, ssim, warping_error, warping_error_in_mask
from seedvr.ops.flow import estimate_video_flows

STATIC_SQUARE = "static_square"
CASE_KINDS: tuple[str, ...] = DAMAGE_KINDS + (STATIC_SQUARE,)
DEFAULT_FRAMES = 48
QUICK_FRAMES = 16
DEFAULT_SIZE = (432, 240)
LARGE_SIZE = (854, 480)
CASE_METRICS: tuple[str, ...] = ("psnr_mask", "ssim_mask", "ewarp", "ewarp_mask", "ewarp_mask_off_truth", "sec_per_frame")
#: The clean clip's own scores in each case record (what a perfect repair gets).
TRUTH_METRICS: tuple[str, ...] = ("ewarp", "ewarp_mask")
BASELINE_FOR_GAIN = "propagate"

# An opaque grey square with grain: the static square is a hole, not a translucent logo.
SQUARE_STYLE = PaintStyle(opacity=(1.0, 1.0), grain=20.0, colourful=False, edge_blur=1)
SQUARE_TONE = 128

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CaseSpec:
    """One case: ``frames`` consecutive frames of ``source`` from ``start`` (shifted back if the
    video is too short), reduced to ``size`` (width, height), damaged with ``kinds`` covering
    a mean fraction of the clip inside ``mask_ratio``, all choices drawn from ``seed``."""

    name: str
    source: str
    start: int
    kinds: tuple[str, ...]
    mask_ratio: tuple[float, float]
    seed: int
    size: tuple[int, int] = DEFAULT_SIZE
    quick: bool = False


#: The benchmark's cases. Start frames avoid the cuts of ``megamind`` (after frames 0, 97,
#: 153 and 199) and sit where things move: the hand entering ``tree`` (frame 55 on), the cup
#: turning (40 on), the box carried across (100 on).
CASES: tuple[CaseSpec, ...] = (
    CaseSpec("vtest-scratch", "vtest", 0, ("scratch",), (0.02, 0.06), 101, quick=True),
    CaseSpec("megamind-blotch", "megamind", 40, ("blotch",), (0.03, 0.08), 102),
    CaseSpec("tree-dust", "tree", 20, ("dust",), (0.01, 0.04), 103),
    CaseSpec("box-stroke", "box", 100, ("stroke",), (0.04, 0.10), 104),
    CaseSpec("cup-object", "cup", 40, ("object",), (0.05, 0.12), 105, quick=True),
    CaseSpec("megamind-logo", "megamind", 100, ("logo",), (0.02, 0.05), 106),
    CaseSpec("vtest-object", "vtest", 120, ("object",), (0.04, 0.10), 107),
    CaseSpec("tree-logo", "tree", 20, ("logo",), (0.02, 0.05), 108),
    CaseSpec("cup-stroke", "cup", 80, ("stroke",), (0.04, 0.10), 109),
    CaseSpec("megamind-film", "megamind", 205, ("scratch", "blotch", "dust"), (0.03, 0.08), 110),
    CaseSpec("box-static-square", "box", 200, (STATIC_SQUARE,), (0.04, 0.05), 111, quick=True),
    CaseSpec("vtest-large-object", "vtest", 300, ("object",), (0.04, 0.10), 112, size=LARGE_SIZE),
)


@dataclass
class RealCase:
    """A built case: ``clean`` truth, ``damaged`` input (no true pixel under ``mask``), where it came from."""

    spec: CaseSpec
    clean: np.ndarray
    damaged: np.ndarray
    mask: np.ndarray
    start: int = 0
    source_size: tuple[int, int] | None = None
    size_note: str | None = None

    @property
    def mask_ratio(self) -> float:
        return float(np.count_nonzero(self.mask) / self.mask.size)

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the clip as repaired."""
        return int(self.clean.shape[2]), int(self.clean.shape[1])


def benchmark_frames(
    videos: Mapping[str, Path], cases: Sequence[CaseSpec] = CASES, frames: int = DEFAULT_FRAMES
) -> dict[str, list[tuple[int, int]]]:
    """Per source video (``{name: path}``), the frame ranges ``[start, stop)`` its cases read
    (as :func:`~seedvr.io.read_clip` places them): what training on real video must leave alone."""
    taken: dict[str, list[tuple[int, int]]] = {}
    for spec in cases:
        start = clip_start(spec.start, frames, probe(videos[spec.source]).frames)
        taken.setdefault(spec.source, []).append((start, start + frames))
    return taken


def select_cases(
    cases: Sequence[CaseSpec] = CASES, patterns: str | Sequence[str] | None = None, quick: bool = False
) -> list[CaseSpec]:
    """Cases whose name contains any of ``patterns`` (comma-separated text or a list); with
    ``quick``, only the few cases marked for smoke checks."""
    chosen = [case for case in cases if case.quick] if quick else list(cases)
    if isinstance(patterns, str):
        patterns = [part.strip() for part in patterns.split(",")]
    patterns = [part for part in (patterns or []) if part]
    if patterns:
        chosen = [case for case in chosen if any(part in case.name for part in patterns)]
    if not chosen:
        names = ", ".join(case.name for case in cases)
        raise SeedVRError(f"no case matches {','.join(patterns) or '(none)'}; cases are {names}")
    return chosen


def fit_to_size(frames: np.ndarray, width: int, height: int) -> tuple[np.ndarray, str | None]:
    """Centre-crop to the ``width:height`` aspect and reduce with ``INTER_AREA``.

    Never enlarges: when the crop would be smaller than the target, the clip is returned at
    its native size, with a note saying so (``None`` when the target was met).
    """
    source_h, source_w = frames.shape[1:3]
    if source_w * height >= width * source_h:  # wider than the target: trim the sides
        crop_h, crop_w = source_h, min(source_w, round(source_h * width / height))
    else:
        crop_h, crop_w = min(source_h, round(source_w * height / width)), source_w
    if crop_w < width or crop_h < height:
        return frames, (
            f"source {source_w}x{source_h} is smaller than {width}x{height}; used at its native size (never upscaled)"
        )
    top, left = (source_h - crop_h) // 2, (source_w - crop_w) // 2
    cropped = frames[:, top : top + crop_h, left : left + crop_w]
    if (crop_w, crop_h) == (width, height):
        return np.ascontiguousarray(cropped), None
    return np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in cropped]), None


def static_square_canvas(clean: np.ndarray, area_ratio: float) -> np.ndarray:
    """Tone canvas ``uint8 [T, H, W]`` of one fixed square covering ``area_ratio`` of each frame,
    centred where the clean clip changes most over time (the moving part of the scene).

    Only the position is taken from the truth; nothing of the truth goes into the input."""
    count, height, width = clean.shape[:3]
    side = int(round(math.sqrt(area_ratio * height * width)))
    side = max(2, min(side, height, width))
    grey = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in clean]).astype(np.float32)
    motion = np.abs(np.diff(grey, axis=0)).mean(axis=0) if count > 1 else np.zeros((height, width), np.float32)
    energy = cv2.boxFilter(motion, -1, (side, side), normalize=True, borderType=cv2.BORDER_CONSTANT)
    # Only centres where the whole square fits are candidates.
    half = side // 2
    fits = np.zeros_like(energy, dtype=bool)
    fits[half : height - (side - half) + 1, half : width - (side - half) + 1] = True
    energy[~fits] = -1.0
    row, col = np.unravel_index(int(np.argmax(energy)), energy.shape)
    top, left = int(row) - half, int(col) - half
    canvas = np.zeros((count, height, width), np.uint8)
    canvas[:, top : top + side, left : left + side] = SQUARE_TONE
    return canvas


def draw_case_layers(clean: np.ndarray, spec: CaseSpec) -> tuple[list[tuple[str, PaintStyle, np.ndarray]], np.ndarray]:
    """Damage layers ``(kind, style, tone canvas)`` and their union mask for one case, from its seed."""
    unknown = [kind for kind in spec.kinds if kind not in CASE_KINDS]
    if unknown or not spec.kinds:
        raise SeedVRError(f"case {spec.name}: unknown damage kind(s) {unknown}; choose from {', '.join(CASE_KINDS)}")
    if STATIC_SQUARE in spec.kinds:
        if len(spec.kinds) != 1:
            raise SeedVRError(f"case {spec.name}: {STATIC_SQUARE} cannot be combined with other kinds")
        canvas = static_square_canvas(clean, float(np.mean(spec.mask_ratio)))
        return [(STATIC_SQUARE, SQUARE_STYLE, canvas)], canvas > 0
    drawn = draw_damage_masks(clean.shape[:3], spec.kinds, np.random.default_rng(spec.seed), spec.mask_ratio)
    return drawn.styled_layers(), drawn.mask


def build_case(
    spec: CaseSpec, clean: np.ndarray, start: int = 0, source_size: tuple[int, int] | None = None, size_note: str | None = None
) -> RealCase:
    """Damage an already read and sized clean clip as ``spec`` says."""
    clean = np.ascontiguousarray(clean, dtype=np.uint8)
    layers, mask = draw_case_layers(clean, spec)
    if not mask.any():
        raise SeedVRError(f"case {spec.name}: the damage left no masked pixel")
    damaged = destroy_under_mask(clean, mask, layers, spec.seed)
    return RealCase(spec, clean, damaged, mask, start, source_size, size_note)


def load_case(spec: CaseSpec, videos: Mapping[str, Path], frames: int = DEFAULT_FRAMES) -> RealCase:
    """Read, size and damage one case from the footage ``videos`` (``{name: path}``)."""
    if spec.source not in videos:
        raise SeedVRError(f"case {spec.name}: unknown source {spec.source!r}; have {', '.join(videos)}")
    clip, start = read_clip(videos[spec.source], spec.start, frames)
    source_size = (int(clip.shape[2]), int(clip.shape[1]))
    sized, note = fit_to_size(clip, *spec.size)
    return build_case(spec, sized, start, source_size, note)


def score_repair(repaired: np.ndarray, case: RealCase, truth_flows=None) -> dict:
    """The quality figures of one repaired clip (see the module doc); flows of the clean clip
    are estimated when not given."""
    if truth_flows is None:
        truth_flows = estimate_video_flows(case.clean)
    outside = ~case.mask
    return {
        "psnr_mask": psnr(repaired, case.clean, case.mask),
        "ssim_mask": ssim(repaired, case.clean, case.mask),
        "ewarp": warping_error(repaired, case.clean, target_flows=truth_flows),
        "ewarp_mask": warping_error_in_mask(repaired, case.clean, case.mask, target_flows=truth_flows),
        "exact_outside_mask": bool(np.array_equal(repaired[outside], case.damaged[outside])),
    }


def case_record(case: RealCase) -> dict:
    """What a case is, for the report (no metrics)."""
    width, height = case.size
    record = {
        "name": case.spec.name,
        "source": case.spec.source,
        "start_frame": case.start,
        "frames": int(case.clean.shape[0]),
        "size": f"{width}x{height}",
        "requested_size": "x".join(map(str, case.spec.size)),
        "source_size": None if case.source_size is None else "x".join(map(str, case.source_size)),
        "kinds": list(case.spec.kinds),
        "mask_ratio": round(case.mask_ratio, 5),
        "seed": case.spec.seed,
    }
    if case.size_note:
        record["size_note"] = case.size_note
    return record


def run_case(case: RealCase, methods: Mapping[str, RepairMethod], progress: Progress | None = None) -> dict:
    """Every method on one case's input, each scored against the same truth and flows."""
    truth_flows = estimate_video_flows(case.clean)
    record = case_record(case)
    # The clean clip's own residual: the only figures of it that are not trivially perfect.
    truth = {
        "ewarp": warping_error(case.clean, case.clean, target_flows=truth_flows),
        "ewarp_mask": warping_error_in_mask(case.clean, case.clean, case.mask, target_flows=truth_flows),
    }
    record["truth"] = truth
    record["methods"] = {}
    frames = case.clean.shape[0]
    for name, method in methods.items():
        damaged = case.damaged.copy()  # a method that scribbles on its input cannot affect the next
        started = time.perf_counter()
        repaired = method.repair(damaged, case.mask.copy())
        seconds = time.perf_counter() - started
        scores = score_repair(np.asarray(repaired), case, truth_flows)
        scores["ewarp_mask_off_truth"] = abs(scores["ewarp_mask"] - truth["ewarp_mask"])
        scores["sec_per_frame"] = seconds / frames
        record["methods"][name] = scores
        if progress is not None:
            progress(
                f"{case.spec.name} {name}: psnr_mask {scores['psnr_mask']:.2f} dB, "
                f"ewarp_mask {scores['ewarp_mask']:.3f}, {scores['sec_per_frame']:.3f} s/frame"
            )
    return record


def run_cases(
    specs: Sequence[CaseSpec],
    videos: Mapping[str, Path],
    methods: Mapping[str, RepairMethod],
    frames: int = DEFAULT_FRAMES,
    progress: Progress | None = None,
) -> list[dict]:
    """Build each case in turn (one clip in memory at a time) and run every method on it."""
    return [run_case(load_case(spec, videos, frames), methods, progress) for spec in specs]


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [float(value) for value in values if value is not None and math.isfinite(float(value))]
    return float(np.mean(defined)) if defined else None


def _method_means(records: Sequence[dict], method: str) -> dict:
    rows = [record["methods"][method] for record in records if method in record["methods"]]
    figures: dict = {key: _mean(row.get(key) for row in rows) for key in CASE_METRICS}
    figures["cases"] = len(rows)
    figures["all_exact_outside_mask"] = all(row.get("exact_outside_mask", False) for row in rows)
    return figures


def _ewarp_gains(model: dict, baseline: dict) -> dict[str, float | None]:
    """``ewarp_mask`` and ``ewarp_mask_off_truth`` of ``baseline`` minus ``model``'s (positive = seedvr better)."""
    return {
        key: None if model.get(key) is None or baseline.get(key) is None else baseline[key] - model[key]
        for key in ("ewarp_mask", "ewarp_mask_off_truth")
    }


def _gains(by_method: dict[str, dict], against: Sequence[str]) -> dict | None:
    """:func:`compute_gains` of seedvr against the best of ``against`` present, plus the
    in-mask warping figures (:func:`_ewarp_gains`)."""
    pool = {name: by_method[name] for name in (MODEL_METHOD, *against) if name in by_method}
    gains = compute_gains(pool)
    if gains is None:
        return None
    baseline = pool[gains["baseline"]]
    gains.update(_ewarp_gains(pool[MODEL_METHOD], baseline))
    for kind, figures in gains["per_kind"].items():
        figures.update(_ewarp_gains(pool[MODEL_METHOD]["per_kind"][kind], baseline["per_kind"][kind]))
    return gains


def summarize_cases(records: Sequence[dict], methods: Sequence[str]) -> dict:
    """``per_kind`` (kind -> method -> means), ``overall`` (method -> means), ``truth`` (the
    clean clip's own means) and ``gains``."""
    kinds = list(dict.fromkeys(kind for record in records for kind in record["kinds"]))
    per_kind = {
        kind: {method: _method_means([r for r in records if kind in r["kinds"]], method) for method in methods} for kind in kinds
    }
    overall = {method: _method_means(records, method) for method in methods}
    by_method = {method: {**overall[method], "per_kind": {kind: per_kind[kind][method] for kind in kinds}} for method in methods}
    others = [method for method in methods if method != MODEL_METHOD]
    return {
        "per_kind": per_kind,
        "overall": overall,
        "truth": {key: _mean(record.get("truth", {}).get(key) for record in records) for key in TRUTH_METRICS},
        "gains": {
            "seedvr_vs_propagate": _gains(by_method, [BASELINE_FOR_GAIN]),
            "seedvr_vs_best_other": _gains(by_method, others),
        },
    }


def describe_sources(videos: Mapping[str, Path], names: Iterable[str]) -> dict:
    """``{name: {file, sha256, width, height, frames, fps}}`` of the source videos used."""
    described = {}
    for name in dict.fromkeys(names):
        path = Path(videos[name])
        info = probe(path)
        described[name] = {
            "file": path.name,
            "sha256": file_sha256(path),
            "width": info.width,
            "height": info.height,
            "frames": info.frames,
            "fps": str(info.fps),
        }
    return described


def _cell(value, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def markdown_tables(report: dict) -> str:
    """Per case and per kind ``psnr_mask``, overall figures and gains, as markdown tables."""
    methods = report["methods"]
    lines = [
        "### psnr_mask (dB) per case",
        "",
        "| case | source | size | kinds | mask % | " + " | ".join(methods) + " |",
        "|---|---|---|---|---:|" + "---:|" * len(methods),
    ]
    for case in report["cases"]:
        scores = [_cell(case["methods"].get(m, {}).get("psnr_mask")) for m in methods]
        lines.append(
            f"| {case['name']} | {case['source']} | {case['size']} | {'+'.join(case['kinds'])} | "
            f"{100 * case['mask_ratio']:.1f} | " + " | ".join(scores) + " |"
        )
    lines += [
        "",
        "### psnr_mask (dB) per kind (mean over cases)",
        "",
        "| kind | cases | " + " | ".join(methods) + " |",
        "|---|---:|" + "---:|" * len(methods),
    ]
    for kind, by_method in report["per_kind"].items():
        cases = max(figures["cases"] for figures in by_method.values())
        lines.append(f"| {kind} | {cases} | " + " | ".join(_cell(by_method[m]["psnr_mask"]) for m in methods) + " |")
    lines += [
        "",
        "### overall (mean over cases)",
        "",
        "| method | psnr_mask dB | ssim_mask | ewarp x1e-3 | ewarp_mask x1e-3 | ewarp_mask off truth | s/frame | exact outside |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for method in methods:
        f = report["overall"][method]
        lines.append(
            f"| {method} | {_cell(f['psnr_mask'])} | {_cell(f['ssim_mask'], 4)} | {_cell(f['ewarp'], 3)} | "
            f"{_cell(f['ewarp_mask'], 3)} | {_cell(f.get('ewarp_mask_off_truth'), 3)} | {_cell(f['sec_per_frame'], 3)} | "
            f"{f['all_exact_outside_mask']} |"
        )
    truth = report.get("truth") or {}
    if truth:
        lines.append(
            f"| (clean clip) | - | - | {_cell(truth.get('ewarp'), 3)} | {_cell(truth.get('ewarp_mask'), 3)} | 0.000 | - | - |"
        )
    for label, gains in report["gains"].items():
        if gains is None:
            lines += ["", f"{label}: not computed (needs seedvr and the baseline in --methods)"]
        else:
            lines += [
                "",
                f"{label} (baseline {gains['baseline']}): psnr_mask {_cell(gains['psnr_mask_db'], 2)} dB, "
                f"ssim_mask {_cell(gains['ssim_mask'], 4)}, ewarp {_cell(gains['ewarp'], 3)}, "
                f"ewarp_mask {_cell(gains['ewarp_mask'], 3)}, ewarp_mask off truth "
                f"{_cell(gains.get('ewarp_mask_off_truth'), 3)} (positive = seedvr better)",
            ]
    return "\n".join(lines)
