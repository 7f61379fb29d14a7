"""Speed and memory of ``seedvr repair`` per method, size, mask ratio and length, against ``propagate``.

Every case runs in its own process (so its peak RSS is its own): a procedural clip (camera
motion over a real photograph with moving sprites, H.264) is repaired by ``repair_video`` in
streaming mode, as ``seedvr repair`` does (cropping to the damage with ``--crop``),
and written as H.264. The damage (:func:`damage_mask`) is three regions sharing the asked
fraction of every frame: a static logo, an object-sized ellipse drifting slowly and a thin
vertical scratch wandering across the frame, so it is scattered, and each window's crops
are what a real film with that much damage would give.

Reported per case: frames/s and seconds a frame of the repair (model loading excluded),
peak RSS, the measured mask ratio, what cropping did, and the ratios to ``propagate`` (the
model's own starting point) at the same size, ratio and length, measured in the same run:
``time_vs_propagate`` (seconds a frame over propagate's: the issue's target is seedvr <= 2 at
432x240 and 5 %) and ``rss_vs_propagate``. The summary adds, per method, size and ratio,
the peak RSS of the longest clip over the shortest (memory must not grow with length).

``--budget`` caps the seconds one case may take, but only for frames larger than
``--budget-above`` (default 854x480: no case is cut short at 432x240 and 854x480): a slow
method then repairs only the first frames that fit and its frames/s is measured over those
(flagged ``"partial": true``). Without ``--model``, ``seedvr`` runs the shipped base model
(``models/seedvr-base``) and is skipped, with a note, when that is missing; ``--model tiny``
uses an untrained tiny pipeline (a smoke check of the plumbing, not of the model's speed).
``--device cuda --precisions fp32,bf16,fp16`` runs the model once per inference precision on
a GPU (rows carry ``precision`` and the peak CUDA memory); the classical methods and the
flow stay on the CPU, as in ``seedvr repair``.
Nothing here asserts a speed. The full default grid takes hours on a CPU; from the project
root:

    .venv/bin/python benchmarks/bench_repair.py --out benchmarks/results/bench_repair.json
    .venv/bin/python benchmarks/bench_repair.py --sizes 432x240 --frames 64 --mask-ratios 0.05 \\
        --methods telea,propagate,seedvr --out /tmp/bench_repair_small.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from seedvr.config import REPAIR_DEFAULTS

DEFAULT_SIZES = "432x240,854x480,1920x1080,3840x2160"
DEFAULT_RATIOS = "0.01,0.05,0.2"
DEFAULT_FRAMES = "64,1024"
DEFAULT_METHODS = "telea,ns,propagate,seedvr"
BASELINE = "propagate"
TINY_MODEL = "tiny"

CASE_SCRIPT = r"""
import json, resource, sys, time
from seedvr.engine.repair import repair_video
args = json.loads(sys.argv[1])
limit = args.pop("limit")
progress_state = {"start": time.perf_counter()}

class Budget(Exception):
    "Raised from the progress hook once a case has used its seconds."

def stop_when_over_budget(done, total):
    progress_state["done"] = done
    if limit and time.perf_counter() - progress_state["start"] > limit and done < total:
        raise Budget()

start = time.perf_counter()
partial, report = False, None
try:
    report = repair_video(progress=stop_when_over_budget, **args)
except Budget:
    partial = True
seconds = time.perf_counter() - start
result = {"frames_done": progress_state.get("done", 0), "wall_seconds": seconds, "partial": partial,
          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
torch = sys.modules.get("torch")
if torch is not None and torch.cuda.is_initialized():
    result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
if report is not None:  # the report times the streamed repair alone (no model loading)
    result.update(repair_seconds=report.seconds, crop=report.crop)
print(json.dumps(result))
"""


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(value) for value in text.lower().split("x"))
    return width, height


def damage_mask(index: int, width: int, height: int, ratio: float) -> np.ndarray:
    """Frame ``index``'s mask ``bool [H, W]``: three regions of ``ratio / 3`` of the frame each.

    A 2:1 logo fixed near the top-left corner; an ellipse (an object's silhouette) drifting
    left and right in the lower half, at most 0.3 % of the width a frame; a vertical scratch
    the frame's height, wandering at most 0.3 % of the width a frame in the right part.
    Their places keep them apart up to 20 % (the measured ratio is reported anyway).
    """
    import cv2

    mask = np.zeros((height, width), np.uint8)
    share = ratio * width * height / 3.0
    logo_w = max(1, min(width // 2, round(math.sqrt(2.0 * share))))
    logo_h = max(1, min(height // 3, round(share / logo_w)))
    top, left = height // 20, width // 20
    mask[top : top + logo_h, left : left + logo_w] = 1
    axis_x = max(1.0, math.sqrt(share / (math.pi * 0.7)))
    centre = (round(width * (0.3 + 0.1 * math.sin(2 * math.pi * index / 200))), round(height * 0.68))
    cv2.ellipse(mask, centre, (round(axis_x), max(1, round(0.7 * axis_x))), 0, 0, 360, 1, -1)
    scratch_w = max(1, round(share / height))
    scratch_x = round(width * (0.72 + 0.05 * math.sin(index / 15)))
    mask[:, scratch_x : scratch_x + scratch_w] = 1
    return mask.astype(bool)


def write_case_video(folder: Path, width: int, height: int, frames: int) -> Path:
    """A procedural source clip, written chunk by chunk (never whole in memory)."""
    from seedvr.data import plan_source_clips
    from seedvr.data.synth import iter_clip_frames
    from seedvr.io import VideoWriter

    source = iter_clip_frames(plan_source_clips(1, frames, width, height, seed=0, fps=Fraction(25))[0])
    video_path = folder / f"clip_{width}x{height}_{frames}.mp4"
    with VideoWriter(video_path, Fraction(25), width, height, crf=16) as video:
        for start in range(0, frames, 64):
            video.write(np.stack([next(source) for _ in range(min(64, frames - start))]))
    return video_path


def write_case_mask(folder: Path, width: int, height: int, frames: int, ratio: float) -> tuple[Path, float]:
    """The mask video of :func:`damage_mask` and its measured ratio."""
    from seedvr.io import MaskWriter

    mask_path = folder / f"mask_{width}x{height}_{frames}_{ratio:g}.mkv"
    damaged = 0
    with MaskWriter(mask_path, Fraction(25), width, height) as mask:
        for start in range(0, frames, 64):
            holes = np.stack([damage_mask(t, width, height, ratio) for t in range(start, min(frames, start + 64))])
            damaged += int(holes.sum())
            mask.write(holes)
    return mask_path, damaged / float(frames * width * height)


def run_case(
    video: Path,
    mask: Path,
    out_dir: Path,
    method: str,
    model: str | None,
    steps: int | None,
    budget: float | None,
    chunk: int,
    overlap: int,
    crop: bool,
    crop_margin: int | None,
    tile_pixels: int | None = None,
    device: str = "cpu",
    precision: str = "fp32",
) -> dict:
    args = {
        "input_path": str(video),
        "mask_path": str(mask),
        "output_path": str(out_dir / f"{method}.mp4"),
        "method": method,
        "model": model,
        "steps": steps,
        "device": device,
        "precision": precision,
        "chunk": chunk,
        "overlap": overlap,
        "limit": budget,
        "crop": crop,
        "crop_margin": crop_margin,
    }
    if tile_pixels is not None:
        args["tile_pixels"] = tile_pixels
    completed = subprocess.run([sys.executable, "-c", CASE_SCRIPT, json.dumps(args)], capture_output=True, text=True)
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    # A case cut short has no report: its time then includes loading the method.
    seconds = result.get("repair_seconds") or result["wall_seconds"]
    result["fps"] = round(result["frames_done"] / max(seconds, 1e-9), 3)
    result["sec_per_frame"] = round(seconds / max(result["frames_done"], 1), 4)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    result["wall_seconds"] = round(result["wall_seconds"], 2)
    return result


def add_baseline_ratios(case_rows: list[dict]) -> None:
    """Ratios of every row of one case to ``propagate``'s row of the same case."""
    baseline = next((row for row in case_rows if row["method"] == BASELINE and "fps" in row), None)
    for row in case_rows:
        if baseline and "fps" in row:
            row["speed_vs_propagate"] = round(row["fps"] / max(baseline["fps"], 1e-9), 4)
            row["time_vs_propagate"] = round(row["sec_per_frame"] / max(baseline["sec_per_frame"], 1e-9), 3)
            row["rss_vs_propagate"] = round(row["peak_rss_mb"] / max(baseline["peak_rss_mb"], 1e-9), 3)


def rss_growth(rows: list[dict]) -> list[dict]:
    """Per method, size and ratio: peak RSS of the longest clip over that of the shortest."""
    growth = []

    def key(row: dict) -> tuple:
        return row["method"], row["precision"], row["size"], row["mask_ratio"]

    for method, precision, size, ratio in sorted({key(row) for row in rows if "fps" in row}):
        runs = sorted(
            (row["frames"], row["peak_rss_mb"]) for row in rows if "fps" in row and key(row) == (method, precision, size, ratio)
        )
        if len(runs) > 1:
            (short, short_rss), (long, long_rss) = runs[0], runs[-1]
            growth.append(
                {
                    "method": method,
                    "precision": precision,
                    "size": size,
                    "mask_ratio": ratio,
                    "frames": [short, long],
                    "rss_long_vs_short": round(long_rss / max(short_rss, 1e-9), 3),
                }
            )
    return growth


def resolve_model(methods: list[str], model: str | None, scratch: Path) -> tuple[list[str], str | None, str | None]:
    """The seedvr model to use: ``--model``, an untrained tiny one for ``tiny``, else the
    shipped base; seedvr is left out (with the reason) when no model is there."""
    if "seedvr" not in methods:
        return methods, model, None
    if model == TINY_MODEL:
        from seedvr.pipeline.pipeline import SeedVRPipeline

        folder = str(scratch / "tiny-untrained")
        SeedVRPipeline.from_preset("tiny").save_pretrained(folder)
        return methods, folder, None
    if model is not None:
        return methods, model, None
    from seedvr.errors import SeedVRError
    from seedvr.pipeline.shipped import shipped_base_model

    try:
        return methods, str(shipped_base_model()), None
    except SeedVRError as error:
        return [name for name in methods if name != "seedvr"], None, f"seedvr skipped: {error}"


def cuda_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def method_runs(methods: list[str], precisions: list[str]) -> list[tuple[str, str]]:
    """(method, precision) pairs: the model once per precision, the classical methods in fp32
    (they are NumPy/OpenCV code with no precision to choose)."""
    return [(method, precision) for method in methods for precision in (precisions if method == "seedvr" else ["fp32"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--mask-ratios", default=DEFAULT_RATIOS, help="comma-separated fractions of each frame damaged")
    parser.add_argument("--frames", default=DEFAULT_FRAMES, help="comma-separated frame counts")
    parser.add_argument("--methods", default=DEFAULT_METHODS)
    parser.add_argument(
        "--model", default=None, help="pipeline folder for seedvr (default: the shipped base; 'tiny': an untrained tiny one)"
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per case before it is cut short")
    parser.add_argument("--budget-above", default="854x480", help="the budget applies only to frames larger than this")
    parser.add_argument("--chunk", type=int, default=32, help="frames per window (the budget is checked between windows)")
    parser.add_argument("--overlap", type=int, default=8)
    parser.add_argument(
        "--crop",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="repair in crops around the damage (seedvr repair --crop) or whole frames (default)",
    )
    parser.add_argument("--crop-margin", type=int, default=None, help="context pixels around the damage in a crop")
    parser.add_argument(
        "--tile-pixels", type=int, default=None, help="largest area repaired at once (default: params.yaml repair.tile_pixels)"
    )
    parser.add_argument("--device", default="cpu", help="seedvr device: cpu, cuda or auto")
    parser.add_argument(
        "--precisions", default="fp32", help="comma-separated seedvr inference precisions (fp32, bf16, fp16: CUDA only)"
    )
    parser.add_argument("--out", default="benchmarks/results/bench_repair.json")
    args = parser.parse_args()

    sizes = [parse_size(size) for size in args.sizes.split(",")]
    ratios = [float(value) for value in args.mask_ratios.split(",")]
    lengths = [int(v) for v in args.frames.split(",")]
    budget_w, budget_h = parse_size(args.budget_above)
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        methods, model, note = resolve_model(args.methods.split(","), args.model, scratch)
        if note:
            notes.append(note)
            print(note, flush=True)
        for width, height in sizes:
            budget = args.budget if width * height > budget_w * budget_h else None
            for frames in lengths:
                video = write_case_video(scratch, width, height, frames)
                for ratio in ratios:
                    mask, measured = write_case_mask(scratch, width, height, frames, ratio)
                    case_rows = []
                    for method, precision in method_runs(methods, args.precisions.split(",")):
                        result = run_case(
                            video,
                            mask,
                            scratch,
                            method,
                            model if method == "seedvr" else None,
                            args.steps,
                            budget,
                            args.chunk,
                            args.overlap,
                            args.crop,
                            args.crop_margin,
                            args.tile_pixels,
                            args.device,
                            precision,
                        )
                        case_rows.append(
                            {
                                "method": method,
                                "precision": precision,
                                "size": f"{width}x{height}",
                                "frames": frames,
                                "mask_ratio": ratio,
                                "mask_ratio_measured": round(measured, 4),
                                **result,
                            }
                        )
                        print(json.dumps(case_rows[-1]), flush=True)
                    add_baseline_ratios(case_rows)
                    rows.extend(case_rows)
                    mask.unlink()
                video.unlink()

    report = {
        "benchmark": "repair",
        "machine": platform.platform(),
        "python": platform.python_version(),
        "command": " ".join([sys.executable, *sys.argv]),
        "baseline": BASELINE,
        "budget_seconds": args.budget,
        "budget_above": args.budget_above,
        "chunk": args.chunk,
        "overlap": args.overlap,
        "crop": args.crop,
        "crop_margin": args.crop_margin,
        "tile_pixels": args.tile_pixels or REPAIR_DEFAULTS.tile_pixels,
        "steps": args.steps,
        "device": args.device,
        "cuda": cuda_name(),
        "model": model if args.model != TINY_MODEL else "tiny (untrained)",
        "notes": notes,
        "rows": rows,
        "rss_growth": rss_growth(rows),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\ncrop: {args.crop}")
    print(
        f"{'method':<12} {'size':>9} {'ratio':>5} {'frames':>6} {'fps':>8} {'s/frame':>8} {'x propagate time':>16} "
        f"{'peak RSS MB':>11} {'crop area':>9} partial"
    )
    for row in rows:
        label = row["method"] if row["method"] != "seedvr" else f"seedvr-{row['precision']}"
        head = f"{label:<12} {row['size']:>9} {row['mask_ratio']:>5g} {row['frames']:>6}"
        if "fps" in row:
            area = (row.get("crop") or {}).get("mean_area_fraction")
            ratio = row.get("time_vs_propagate", float("nan"))
            print(
                f"{head} {row['fps']:>8.2f} {row['sec_per_frame']:>8.4f} {ratio:>16.3f} "
                f"{row['peak_rss_mb']:>11.1f} {area if area is not None else '-':>9} {row['partial']}"
            )
        else:
            print(f"{head}  error: {row['error']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
