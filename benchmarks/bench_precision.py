"""What reduced-precision inference costs in quality and buys in speed, against fp32.

One procedural clip per size (camera motion over a real photograph with moving sprites) is
damaged with the project's film and object kinds, and the pixels under the mask are destroyed
(grey + noise) so no method sees the truth there. The model (the shipped base unless
``--model``) repairs it once per precision on ``--device``; each repair is run twice and the
second is timed (the first pays for allocations and kernel selection). ``propagate`` (the
model's starting point, fp32 NumPy/OpenCV) is scored on the same clip as the quality anchor.

Reported per size and precision: PSNR inside the mask against the truth, PSNR inside the mask
against the fp32 model's output (how far the precision moves the repair), the largest change
outside the mask (the lossless contract: it must be 0), whether the two runs gave the same
bits, seconds a frame, the ratio of that to
fp32's, and peak CUDA memory. Nothing here asserts a speed. fp16 needs a GPU and is skipped,
with a note, on the CPU. From the project root:

    .venv/bin/python benchmarks/bench_precision.py --sizes 128x96 --frames 8 --precisions fp32,bf16
    python benchmarks/bench_precision.py --device cuda --sizes 432x240,854x480 --precisions fp32,bf16,fp16
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from bench_repair import cuda_name

BASELINE_PRECISION = "fp32"
DAMAGE = ("scratch", "blotch", "dust", "object")


def damaged_clip(width: int, height: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(clean, damaged, mask)``: a procedural clip, its mask, the pixels under it destroyed."""
    from seedvr.data import apply_damage, plan_source_clips, render_clip
    from seedvr.data.damage.destroy import destroy_under_mask

    clean = render_clip(plan_source_clips(1, frames, width, height, seed=0, fps=Fraction(24))[0])
    _, mask, _ = apply_damage(clean, DAMAGE, np.random.default_rng(0), (0.05, 0.1))
    return clean, destroy_under_mask(clean, mask, [], seed=0), mask


def timed_repair(method, damaged: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """The repair, its seconds a frame measured on a second run, and whether both runs agree
    to the bit (the sampler is seeded: a GPU must give the same repair twice)."""
    import torch

    first = method.repair(damaged, mask)
    synchronize = torch.cuda.synchronize if torch.cuda.is_initialized() else (lambda: None)
    synchronize()
    started = time.perf_counter()
    repaired = method.repair(damaged, mask)
    synchronize()
    return repaired, (time.perf_counter() - started) / len(damaged), bool(np.array_equal(first, repaired))


def score_size(width: int, height: int, args: argparse.Namespace, precisions: list[str]) -> list[dict]:
    import torch

    from seedvr.engine.methods import make_method
    from seedvr.metrics.fidelity import psnr

    clean, damaged, mask = damaged_clip(width, height, args.frames)
    outside = ~mask
    common = {"size": f"{width}x{height}", "frames": args.frames, "mask_ratio": round(float(mask.mean()), 4)}
    propagated, propagate_seconds, _ = timed_repair(make_method("propagate"), damaged, mask)
    rows = [{**common, "method": "propagate", "precision": "fp32", "psnr_mask": psnr(propagated, clean, mask),
             "sec_per_frame": propagate_seconds}]  # fmt: skip
    reference = None
    for precision in precisions:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        method = make_method("seedvr", model=args.model, steps=args.steps, device=args.device, precision=precision)
        repaired, seconds, repeatable = timed_repair(method, damaged, mask)
        if precision == BASELINE_PRECISION:
            reference = repaired
        changed_outside = np.abs(repaired.astype(np.int16) - damaged.astype(np.int16))[outside]
        rows.append(
            {
                **common,
                "method": "seedvr",
                "precision": precision,
                "device": method.details["device"],
                "psnr_mask": psnr(repaired, clean, mask),
                "psnr_mask_vs_fp32": round(psnr(repaired, reference, mask), 3) if reference is not None else None,
                "max_change_outside_mask": int(changed_outside.max(initial=0)),
                "repeatable": repeatable,
                "sec_per_frame": seconds,
                "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if torch.cuda.is_initialized() else None,
            }
        )
    fp32 = next((row for row in rows if row["method"] == "seedvr" and row["precision"] == BASELINE_PRECISION), None)
    for row in rows:
        row["time_vs_fp32_seedvr"] = round(row["sec_per_frame"] / fp32["sec_per_frame"], 3) if fp32 else None
        row["sec_per_frame"] = round(row["sec_per_frame"], 4)
        row["psnr_mask"] = round(row["psnr_mask"], 3)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="432x240,854x480", help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--precisions", default="fp32,bf16,fp16", help="comma-separated; fp32 first is the reference")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--model", default=None, help="pipeline folder (default: the shipped base)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    parser.add_argument("--out", default="benchmarks/results/bench_precision.json")
    args = parser.parse_args()

    import torch

    from seedvr.engine.methods import resolve_device

    precisions = args.precisions.split(",")
    if precisions[0] != BASELINE_PRECISION:
        sys.exit(f"error: --precisions must start with {BASELINE_PRECISION} (the reference), got {args.precisions!r}")
    notes = []
    if resolve_device(args.device).type != "cuda" and "fp16" in precisions:
        precisions.remove("fp16")
        notes.append("fp16 skipped: it needs a CUDA GPU")
    rows = []
    for size in args.sizes.split(","):
        width, height = (int(value) for value in size.lower().split("x"))
        rows.extend(score_size(width, height, args, precisions))
    report = {
        "benchmark": "precision",
        "machine": platform.platform(),
        "cuda": cuda_name(),
        "torch": torch.__version__,
        "command": " ".join([sys.executable, *sys.argv]),
        "damage": list(DAMAGE),
        "notes": notes,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
