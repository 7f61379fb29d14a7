"""Speed and memory of ``seedvr repair`` per method, size and length, against ``telea``.

Every case runs in its own process (so its peak RSS is its own): a procedural clip (camera
motion over a real photograph with moving sprites, H.264) with a moving free-form hole is repaired in
streaming mode and written as H.264. Reported per case: frames/s, peak RSS, and the ratio
of frames/s to ``telea`` at the same size and length, measured in the same run.

``--budget`` caps the seconds one case may take: a slow method then repairs only the first
frames that fit and its frames/s is measured over those (flagged ``"partial": true``), so
the full grid finishes on a CPU. Nothing here asserts a speed. From the project root:

    .venv/bin/python benchmarks/bench_repair.py --out benchmarks/results/bench_repair.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

DEFAULT_SIZES = "176x144,432x240,854x480"
DEFAULT_FRAMES = "32,256,1024"
DEFAULT_METHODS = "telea,ns,propagate,seedvr"

CASE_SCRIPT = r"""
import json, resource, sys, time
from seedvr.engine.repair import repair_video
from seedvr.io import probe
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
partial = False
try:
    repair_video(progress=stop_when_over_budget, **args)
except Budget:
    partial = True
seconds = time.perf_counter() - start
done = progress_state.get("done", 0)
print(json.dumps({"frames_done": done, "seconds": seconds, "partial": partial,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_case_inputs(folder: Path, width: int, height: int, frames: int) -> tuple[Path, Path]:
    """A procedural source clip and a moving-stroke mask, written chunk by chunk (never whole in memory)."""
    import cv2

    from seedvr.data import plan_source_clips
    from seedvr.data.synth import iter_clip_frames
    from seedvr.io import MaskWriter, VideoWriter

    source = iter_clip_frames(plan_source_clips(1, frames, width, height, seed=0, fps=Fraction(25))[0])
    video_path, mask_path = folder / f"clip_{width}x{height}_{frames}.mp4", folder / f"mask_{width}x{height}_{frames}.mkv"
    radius = max(3, min(width, height) // 12)
    with VideoWriter(video_path, Fraction(25), width, height, crf=16) as video, MaskWriter(mask_path, Fraction(25), width, height) as mask:
        for start in range(0, frames, 64):
            count = min(64, frames - start)
            chunk = np.empty((count, height, width, 3), np.uint8)
            holes = np.zeros((count, height, width), np.uint8)
            for index in range(count):
                t = start + index
                chunk[index] = next(source)
                cx, cy = int(width * (0.3 + 0.4 * (t % 97) / 97)), int(height * 0.5 + height * 0.2 * np.sin(t / 9))
                cv2.line(holes[index], (cx - width // 6, cy - height // 8), (cx + width // 6, cy + height // 8), 1, radius)
            video.write(chunk)
            mask.write(holes.astype(bool))
    return video_path, mask_path


def run_case(video: Path, mask: Path, out_dir: Path, method: str, model: str | None, steps: int | None,
             budget: float, chunk: int, overlap: int) -> dict:
    args = {
        "input_path": str(video), "mask_path": str(mask), "output_path": str(out_dir / f"{method}.mp4"),
        "method": method, "model": model, "steps": steps, "chunk": chunk, "overlap": overlap, "limit": budget,
    }
    completed = subprocess.run([sys.executable, "-c", CASE_SCRIPT, json.dumps(args)], capture_output=True, text=True)
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["fps"] = round(result["frames_done"] / max(result["seconds"], 1e-9), 3)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    result["seconds"] = round(result["seconds"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--frames", default=DEFAULT_FRAMES, help="comma-separated frame counts")
    parser.add_argument("--methods", default=DEFAULT_METHODS)
    parser.add_argument("--model", default=None, help="pipeline folder for seedvr (default: an untrained tiny one)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per case before it is cut short")
    parser.add_argument("--chunk", type=int, default=32, help="frames per window (the budget is checked between windows)")
    parser.add_argument("--overlap", type=int, default=8)
    parser.add_argument("--out", default="benchmarks/results/bench_repair.json")
    args = parser.parse_args()

    methods = args.methods.split(",")
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    lengths = [int(v) for v in args.frames.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = args.model
        if "seedvr" in methods and model is None:
            from seedvr.pipeline.pipeline import SeedVRPipeline

            model = str(scratch / "tiny-untrained")
            SeedVRPipeline.from_preset("tiny").save_pretrained(model)
        for width, height in sizes:
            for frames in lengths:
                video, mask = write_case_inputs(scratch, width, height, frames)
                case_rows = []
                for method in methods:
                    result = run_case(video, mask, scratch, method, model if method == "seedvr" else None, args.steps,
                                      args.budget, args.chunk, args.overlap)
                    case_rows.append({"method": method, "size": f"{width}x{height}", "frames": frames, **result})
                    print(json.dumps(case_rows[-1]), flush=True)
                telea = next((row for row in case_rows if row["method"] == "telea" and "fps" in row), None)
                for row in case_rows:
                    if telea and "fps" in row:
                        row["speed_vs_telea"] = round(row["fps"] / max(telea["fps"], 1e-9), 4)
                        row["rss_vs_telea"] = round(row["peak_rss_mb"] / max(telea["peak_rss_mb"], 1e-9), 3)
                rows.extend(case_rows)
                video.unlink()
                mask.unlink()

    report = {"benchmark": "repair", "machine": platform.platform(), "python": platform.python_version(),
              "budget_seconds": args.budget, "chunk": args.chunk, "overlap": args.overlap, "steps": args.steps, "model": args.model or "tiny (untrained)", "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\n{'method':<10} {'size':>8} {'frames':>6} {'fps':>9} {'x telea':>8} {'peak RSS MB':>11} partial")
    for row in rows:
        if "fps" in row:
            print(f"{row['method']:<10} {row['size']:>8} {row['frames']:>6} {row['fps']:>9.2f} "
                  f"{row.get('speed_vs_telea', float('nan')):>8.3f} {row['peak_rss_mb']:>11.1f} {row['partial']}")
        else:
            print(f"{row['method']:<10} {row['size']:>8} {row['frames']:>6}  error: {row['error']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
