"""Repair quality on real footage: seedvr, propagate, telea and ns on the same damaged clips.

Cases (:data:`seedvr.evaluate.real_footage.CASES`): 48-frame windows of OpenCV's sample
videos (fetched once by package name, hash-checked: :mod:`seedvr.data.footage`) at 432x240
plus one large case, damaged with every damage kind of the project, moving object-shaped
holes and a static square over the moving part of a scene. The pixels under the mask are
destroyed in the input (grey + noise, then the kind's damage painted over it), so no method
ever sees them. Every method runs in this one process on the same inputs; scores are PSNR and
SSIM inside the mask, E_warp of the whole frame and of the repaired region, and seconds per
frame of the repair call alone.

Writes a JSON report (cases, per-kind and overall means, gains of seedvr, source hashes,
model, commit, machine, the command line) and prints markdown tables. Nothing here asserts a
score. Like ``seedvr repair``, every method runs on whole frames by default; ``--crop`` runs
it in crops around the damage (:mod:`seedvr.engine.crops`, one crop plan per 48-frame clip).
From the project root:

    .venv/bin/python benchmarks/bench_quality.py --model models/seedvr-base
    .venv/bin/python benchmarks/bench_quality.py --methods propagate,telea,ns
    .venv/bin/python benchmarks/bench_quality.py --quick --methods propagate,telea   # smoke check
    .venv/bin/python benchmarks/bench_quality.py --methods propagate,telea,ns --crop   # in crops
    .venv/bin/python benchmarks/bench_quality.py --blind --methods seedvr,telea   # detected vs true mask

``--blind`` runs only the film-damage cases (scratch, blotch, dust) and repairs each with the
mask ``repair --mask auto`` repairs (the detections grown, then confirmed by a propagated
repair: ``--confirm-tolerance``, ``--no-confirm``, over ``--detect-looks`` looks) and with the true one
(:mod:`seedvr.evaluate.blind_footage`; into ``results/bench_quality_blind.json``):
PSNR of the whole frame and inside the true mask, and the clean pixels the repair changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_quality.json"
DEFAULT_BLIND_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_quality_blind.json"
DEFAULT_METHODS = "seedvr,propagate,telea,ns"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="pipeline folder or models:/NAME@ALIAS for seedvr (default: the shipped base)"
    )
    parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated, from seedvr,propagate,telea,ns")
    parser.add_argument("--cases", default=None, help="comma-separated substrings; keep cases whose name holds one")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps of seedvr (default: the model's)")
    parser.add_argument("--frames", type=int, default=None, help="frames per case (default 48; 16 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke check: 3 small cases of 16 frames")
    parser.add_argument("--device", default="auto", help="seedvr device: auto, cpu or cuda")
    parser.add_argument("--cache", default=None, help="footage cache folder (default $SEEDVR_CACHE or ~/.cache/seedvr)")
    parser.add_argument(
        "--crop",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="repair in crops around the damage (seedvr repair --crop) or whole frames (default, as seedvr repair)",
    )
    parser.add_argument("--crop-margin", type=int, default=None, help="context pixels around the damage in a crop")
    parser.add_argument(
        "--tile-pixels",
        type=int,
        default=None,
        help="repair windows larger than this many pixels in tiles, as seedvr repair does (default: whole frames)",
    )
    parser.add_argument(
        "--adapt",
        type=int,
        default=0,
        help="seedvr repair --adapt STEPS: fine-tune a fresh copy of the model on each damaged clip first (timed with it)",
    )
    parser.add_argument(
        "--blind", action="store_true", help="film-damage cases only: repair inside the detected mask and the true one"
    )
    parser.add_argument("--detector", default=None, help="detector folder for --blind (default: the shipped one)")
    parser.add_argument(
        "--detect-dilate", type=int, default=None, help="--blind: grow the repaired mask (repair --mask auto --dilate)"
    )
    parser.add_argument(
        "--detect-grow-threshold",
        type=float,
        default=None,
        help="--blind: grow detections down to this (repair --mask auto --grow-threshold)",
    )
    parser.add_argument(
        "--confirm-tolerance",
        type=int,
        default=None,
        help="--blind: repair a detected pixel only where propagate changes it by more than this (repair --confirm-tolerance)",
    )
    parser.add_argument("--no-confirm", action="store_true", help="--blind: repair every detected pixel (repair --no-confirm)")
    parser.add_argument("--detect-looks", type=int, default=None, help="--blind: times to look for damage (repair --looks)")
    parser.add_argument("--detect-scales", default=None, help="--blind: detection scales, e.g. 1,0.4 (seedvr detect --scales)")
    parser.add_argument("--out", default=None, help="JSON to write (default: results/bench_quality[_blind].json)")
    args = parser.parse_args(argv)
    # A blind run has its own file: it must never replace the sighted benchmark's.
    if args.out is None:
        args.out = str(DEFAULT_BLIND_OUT if args.blind else DEFAULT_OUT)
    return args


def add_case_options(parser: argparse.ArgumentParser, default_out: Path) -> None:
    """The options of a script that runs its own measurement over the real-footage cases."""
    from seedvr.evaluate.real_footage import DEFAULT_FRAMES

    parser.add_argument("--cases", default=None, help="comma-separated substrings; keep cases whose name holds one")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="frames per case")
    parser.add_argument("--cache", default=None, help="footage cache folder (default $SEEDVR_CACHE or ~/.cache/seedvr)")
    parser.add_argument("--out", default=str(default_out), help="JSON to write")


def run_case_script(script: str, run, args: argparse.Namespace) -> dict | None:
    """``run(args)`` of a script over the cases (:func:`add_case_options`), or ``None`` after one
    line on stderr: fewer than 2 frames per case, or a :class:`SeedVRError`."""
    from seedvr.errors import SeedVRError

    if args.frames < 2:
        print(f"{script}: --frames must be at least 2, got {args.frames}", file=sys.stderr)
        return None
    try:
        return run(args)
    except SeedVRError as error:
        print(f"{script}: {error}", file=sys.stderr)
        return None


def model_default_steps(model: str) -> int | None:
    """``num_inference_steps`` saved in a local pipeline folder's scheduler config, if any."""
    for config in sorted(Path(model).glob("scheduler/*.json")):
        try:
            steps = json.loads(config.read_text()).get("num_inference_steps")
        except (OSError, ValueError):
            continue
        if isinstance(steps, int):
            return steps
    return None


def machine_info() -> dict:
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def adapted_per_clip(method, adapt_steps: int, steps: int | None, device: str):
    """``method`` (seedvr) as ``seedvr repair --adapt`` runs it: every clip gets a fresh copy of
    the model fine-tuned on that damaged clip's known pixels, then repairs it. The adaptation
    is inside the timed call, so sec_per_frame carries its cost."""
    from seedvr.engine.methods import pipeline_method, resolve_device
    from seedvr.pipeline.loading import load_pipeline
    from seedvr.train.adapt import adapt_pipeline, check_adapt_request

    check_adapt_request(adapt_steps)
    folder, torch_device = method.details["model"], resolve_device(device)
    reports = []

    def repair(frames, masks):
        pipeline = load_pipeline(folder, torch_device, label=f"--model {folder}")
        _, report = adapt_pipeline(pipeline, frames, masks, adapt_steps, seed=0, inplace=True)
        reports.append(report.to_dict())
        return pipeline_method(pipeline, steps=steps, seed=0).repair(frames, masks)

    details = {**method.details, "adapt_steps": adapt_steps, "adapt_reports": reports}
    # Adapted per clip, it repairs a detected mask blended like a true one (no variant).
    return dataclasses.replace(method, repair=repair, details=details, rebuild_with_blend=None)


def rewrapped(method, wrap):
    """``method`` with its repair wrapped by ``wrap`` (crops, tiles), and so are its variants
    with another share of blending (the detected masks of ``--blind``)."""
    rebuild = method.rebuild_with_blend
    return dataclasses.replace(
        method,
        repair=wrap(method.repair),
        rebuild_with_blend=None if rebuild is None else lambda share: rewrapped(rebuild(share), wrap),
    )


def provenance(name: str) -> dict:
    """Which benchmark, how it was called, when, from which code, on which machine."""
    from seedvr.versioning.git import git_commit, git_is_dirty

    return {
        "benchmark": name,
        "command": shlex.join([sys.executable, *sys.argv]),
        "cwd": os.getcwd(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(REPO_ROOT),
        "git_dirty": git_is_dirty(REPO_ROOT),
        "machine": machine_info(),
    }


def write_report(report: dict, out: str | Path, started: float) -> dict:
    """``report`` with its wall time, written as JSON to ``out`` atomically; returns what was written."""
    from seedvr.evaluate.summary import json_ready
    from seedvr.io import atomic_output

    report = json_ready({**report, "wall_seconds": round(time.perf_counter() - started, 1)})
    with atomic_output(Path(out), make_parents=True) as temporary:
        temporary.write_text(json.dumps(report, indent=2) + "\n")
    return report


def run(args: argparse.Namespace) -> dict:
    from seedvr.data.footage import REQUIREMENT, SDIST_SHA256, footage_videos
    from seedvr.engine.crops import DEFAULT_CROP_ALIGN, DEFAULT_CROP_MARGIN, CropStats, cropped
    from seedvr.engine.tiles import tiled
    from seedvr.errors import SeedVRError
    from seedvr.evaluate import real_footage as bench
    from seedvr.evaluate.runner import check_method_names, load_methods
    from seedvr.pipeline.shipped import shipped_base_model

    started = time.perf_counter()
    methods = check_method_names(args.methods)
    frames = args.frames or (bench.QUICK_FRAMES if args.quick else bench.DEFAULT_FRAMES)
    specs = bench.select_cases(bench.CASES, args.cases, quick=args.quick)
    model = None
    if "seedvr" in methods:
        model = args.model or str(shipped_base_model())
        if not model.startswith("models:/") and not Path(model).is_dir():
            raise SeedVRError(f"model folder {model} not found: pass --model PATH, or leave seedvr out of --methods")
    # Methods first: a model that cannot load fails before any footage is read.
    repairers = load_methods(methods, model, args.steps, seed=0, device=args.device)
    crop_stats = None
    margin = DEFAULT_CROP_MARGIN if args.crop_margin is None else args.crop_margin
    if args.tile_pixels is not None:
        # Innermost, as in repair_video: a large frame or crop is repaired tile by tile.
        repairers = {
            name: rewrapped(method, lambda repair: tiled(repair, args.tile_pixels, 2 * margin))
            for name, method in repairers.items()
        }
    if args.crop:
        # The same wrapper repair_video puts around a method: what users get, timed with it.
        crop_stats = CropStats(margin=margin, align=DEFAULT_CROP_ALIGN)
        repairers = {
            name: rewrapped(method, lambda repair: cropped(repair, margin, DEFAULT_CROP_ALIGN, crop_stats))
            for name, method in repairers.items()
        }
    if args.adapt and "seedvr" in repairers:
        repairers["seedvr"] = adapted_per_clip(repairers["seedvr"], args.adapt, args.steps, args.device)
    videos = footage_videos(args.cache)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.blind:
        return _run_blind(args, specs, videos, repairers, methods, frames, model, progress, started)
    records = bench.run_cases(specs, videos, repairers, frames=frames, progress=progress)
    summary = bench.summarize_cases(records, methods)
    notes = [f"{record['name']}: {record['size_note']}" for record in records if record.get("size_note")]
    large = [record for record in records if record["requested_size"] == "x".join(map(str, bench.LARGE_SIZE))]
    report = {
        **provenance("quality_real_footage"),
        "model": {
            "path": model,
            "steps": args.steps,
            "default_steps": model_default_steps(model) if model and not model.startswith("models:/") else None,
            "device": repairers["seedvr"].details.get("device") if "seedvr" in repairers else None,
            "adapt_steps": args.adapt,
            "adapt_reports": repairers["seedvr"].details.get("adapt_reports") if "seedvr" in repairers else None,
        },
        "methods": list(methods),
        # Counts over every method's calls (each method sees the same clips, so the same crops).
        "crop": crop_stats.to_dict() if crop_stats else {"enabled": False},
        "tile_pixels": args.tile_pixels,
        "frames_per_case": frames,
        "quick": args.quick,
        "footage": {"package": REQUIREMENT, "sdist_sha256": SDIST_SHA256},
        "sources": bench.describe_sources(videos, [spec.source for spec in specs]),
        # No footage video reaches 854x480 (the largest, vtest, is 768x576): the large case then
        # runs at its source's native size, never upscaled, and says so here.
        "large_case": {
            "requested_size": "x".join(map(str, bench.LARGE_SIZE)),
            "cases": [
                {key: record.get(key) for key in ("name", "source", "size", "source_size", "size_note")} for record in large
            ],
        },
        "size_notes": notes,
        "aggregation": "means over cases of per-case values (PSNR in dB averaged); a case counts for each of its kinds",
        "metrics": {
            "psnr_mask": "dB inside the mask, capped at 100",
            "ssim_mask": "SSIM map averaged over masked pixels",
            "ewarp": "warping error of the whole frame x1e-3 (flow and occlusion of the clean clip)",
            "ewarp_mask": "warping error of the repaired region x1e-3 (mean of per-frame ewarp_per_frame)",
            "sec_per_frame": "seconds of the repair call only, per frame",
        },
        "cases": records,
        **summary,
    }
    return write_report(report, args.out, started)


def _run_blind(args, specs, videos, repairers, methods, frames, model, progress, started) -> dict:
    """``--blind``: the film-damage cases, each method with the detected and the true mask."""
    from seedvr.engine.auto_mask import CONFIRM_TOLERANCE, DETECTION_LOOKS, check_looks
    from seedvr.engine.confirm import CONFIRMING_METHOD, check_confirm_tolerance
    from seedvr.engine.detect import (
        AUTO_GROW_THRESHOLD,
        DEFAULT_DILATE,
        DEFAULT_SCALES,
        DEFAULT_THRESHOLD,
        check_detection_options,
        check_scales,
        load_detector,
    )
    from seedvr.engine.methods import make_method
    from seedvr.evaluate import blind_footage

    # The mask repaired is --mask auto's: detections grown, dilated, then confirmed.
    dilate = DEFAULT_DILATE if args.detect_dilate is None else args.detect_dilate
    grow = AUTO_GROW_THRESHOLD if args.detect_grow_threshold is None else args.detect_grow_threshold
    scales = DEFAULT_SCALES if args.detect_scales is None else check_scales(args.detect_scales)
    check_detection_options(DEFAULT_THRESHOLD, dilate, grow)
    tolerance = None if args.no_confirm else CONFIRM_TOLERANCE if args.confirm_tolerance is None else args.confirm_tolerance
    check_confirm_tolerance(tolerance)
    look_count = DETECTION_LOOKS if args.detect_looks is None else args.detect_looks
    check_looks(look_count)
    confirming_method = repairers.get(CONFIRMING_METHOD) or make_method(CONFIRMING_METHOD)
    confirmation = None if tolerance is None else blind_footage.Confirmation(confirming_method, tolerance)
    detector = load_detector(args.detector)
    records = blind_footage.run_blind_cases(
        specs,
        videos,
        repairers,
        detector,
        DEFAULT_THRESHOLD,
        dilate,
        scales,
        frames,
        progress,
        grow_threshold=grow,
        confirmation=confirmation,
        looks=blind_footage.Looks(look_count, confirming_method),
    )
    report = {
        **provenance("quality_real_footage_blind"),
        "blind": True,
        "model": {"path": model, "steps": args.steps},
        "detector": {
            "path": args.detector or "models/seedvr-detector",
            "threshold": DEFAULT_THRESHOLD,
            "grow_threshold": grow,
            "dilate": dilate,
            "scales": list(scales),
            "confirm_tolerance": tolerance,
            "looks": look_count,
        },
        "methods": list(methods),
        "frames_per_case": frames,
        "metrics": {
            "psnr": "dB of the whole frame against the clean clip",
            "psnr_true_mask": "dB inside the true mask",
            "clean_pixels_changed": "pixels outside the true mask that the repair changed (false detections repaired)",
        },
        "cases": records,
        **blind_footage.summarize_blind(records, methods),
    }
    return write_report(report, args.out, started)


def main(argv: list[str] | None = None) -> int:
    from seedvr.errors import SeedVRError
    from seedvr.evaluate.real_footage import markdown_tables

    args = parse_args(argv)
    try:
        report = run(args)
    except SeedVRError as error:
        print(f"bench_quality: {error}", file=sys.stderr)
        return 2
    if report.get("blind"):
        from seedvr.evaluate.blind_footage import blind_markdown

        print(blind_markdown(report))
    else:
        print(markdown_tables(report))
    print(f"\nwall time {report['wall_seconds']} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
