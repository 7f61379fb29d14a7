"""Speed of synthetic damage (``seedvr.data.damage.apply_damage``), frames per second per kind.

Damage is drawn on the fly during training, so it must cost far less than a training step.
For each frame size and kind, a rendered source clip is damaged again and again with fresh
generators; the figure is frames / median seconds per call. Writes a JSON report and prints
a table; nothing here asserts a speed. Run from the project root:

    .venv/bin/python benchmarks/bench_damage.py --out benchmarks/results/bench_damage.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage import apply_damage
from seedvr.data.synth import plan_source_clips, render_clip
from seedvr.io import atomic_output

SIZES = (64, 128, 256)
TARGET_FPS_AT_128 = 1000.0


def time_kind(clip: np.ndarray, kinds: list[str], mask_ratio: tuple[float, float], seconds: float) -> dict:
    """Median wall and CPU time of one ``apply_damage`` call over calls filling ``seconds``.

    CPU time (all threads of this process) is reported next to wall time because the
    machine may be shared: other processes stretch wall time, much less CPU time.
    """
    apply_damage(clip, kinds, np.random.default_rng(0), mask_ratio)  # warm caches (grain tile)
    wall, cpu, ratios = [], [], []
    started = time.perf_counter()
    call = 0
    while time.perf_counter() - started < seconds or call < 5:
        rng = np.random.default_rng(call + 1)
        begin_wall, begin_cpu = time.perf_counter(), time.process_time()
        _, mask, info = apply_damage(clip, kinds, rng, mask_ratio)
        wall.append(time.perf_counter() - begin_wall)
        cpu.append(time.process_time() - begin_cpu)
        ratios.append(info.mask_ratio)
        call += 1
    median_wall, median_cpu = statistics.median(wall), statistics.median(cpu)
    return {
        "calls": call,
        "median_ms_per_call": round(median_wall * 1e3, 3),
        "frames_per_second": round(len(clip) / median_wall, 1),
        "frames_per_cpu_second": round(len(clip) / max(median_cpu, 1e-9), 1),
        "mean_mask_ratio": round(float(np.mean(ratios)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16, help="frames per damaged clip")
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per (size, kind)")
    parser.add_argument("--mask-ratio", default="0.01:0.25", help="LOW:HIGH bounds given to apply_damage")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_damage.json"))
    args = parser.parse_args()
    low, high = (float(value) for value in args.mask_ratio.split(":"))

    load_at_start = round(os.getloadavg()[0], 2)
    cases = [[kind] for kind in DAMAGE_KINDS] + [list(DAMAGE_KINDS)]
    results = []
    for size in SIZES:
        clip = render_clip(plan_source_clips(1, args.frames, size, size, seed=0, fps=Fraction(24))[0])
        for kinds in cases:
            row = {"size": f"{size}x{size}", "kind": "+".join(kinds) if len(kinds) > 1 else kinds[0]}
            row.update(time_kind(clip, kinds, (low, high), args.seconds))
            results.append(row)
            print(
                f"{row['size']:>9}  {row['kind'][:24]:<24} {row['frames_per_second']:>8.0f} frames/s"
                f" {row['frames_per_cpu_second']:>8.0f} frames/cpu-s {row['median_ms_per_call']:>8.2f} ms/call"
                f"  ratio {row['mean_mask_ratio']:.3f}",
                flush=True,
            )

    at_128 = [row["frames_per_second"] for row in results if row["size"] == "128x128" and "+" not in row["kind"]]
    report = {
        "benchmark": "bench_damage",
        "frames_per_clip": args.frames,
        "mask_ratio": [low, high],
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "load_average_1min_at_start": load_at_start,
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        },
        "target_frames_per_second_at_128": TARGET_FPS_AT_128,
        "slowest_kind_frames_per_second_at_128": min(at_128),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out) as temporary:
        temporary.write_text(json.dumps(report, indent=2) + "\n")
    print(f"slowest single kind at 128x128: {min(at_128):.0f} frames/s (target {TARGET_FPS_AT_128:.0f}); wrote {args.out}")


if __name__ == "__main__":
    main()
