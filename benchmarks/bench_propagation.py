"""Speed and quality of flow propagation against per-frame OpenCV inpainting.

Speed: frames/s of flow estimation (Farneback + completion), propagation alone (given the
flows), the full ``propagation_guess`` (flows + propagation + Telea for the rest) and of
per-frame ``telea`` / ``ns``, on procedural clips (``seedvr.data.synth``: camera pan, zoom
and roll over a photo, sprites, lighting drift) at each size; each figure is the median of
``--repeats`` runs and is also given as a ratio to ``telea`` measured in the same run.

Quality: PSNR inside the mask of ``propagate``, ``telea`` and ``ns`` (and of propagation
with flows measured straight through the damage, without completion) on the same kind of
clips plus pure pans over photos, with a static hole and with a moving hole. The hole is
filled with black before repair, as a blotch would be.

Writes a JSON report and prints a table; nothing here asserts a speed. From the project root:

    .venv/bin/python benchmarks/bench_propagation.py --out benchmarks/results/bench_propagation.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch

from seedvr.baselines import inpaint_frames
from seedvr.data.photos import load_photo
from seedvr.data.synth import plan_source_clips, render_clip
from seedvr.metrics import psnr
from seedvr.ops.flow import estimate_video_flows
from seedvr.ops.propagation import propagate_known_pixels, propagation_guess


def procedural_clip(frames: int, height: int, width: int, seed: int) -> np.ndarray:
    spec = plan_source_clips(1, frames, width, height, seed, Fraction(24))[0]
    return render_clip(spec)


def pan_over_photo(name: str, frames: int, height: int, width: int, step: tuple[int, int]) -> np.ndarray:
    """A camera sliding ``step`` (dx, dy) pixels per frame over a photo resized to fit."""
    photo = load_photo(name)
    need_h, need_w = height + abs(step[1]) * frames, width + abs(step[0]) * frames
    scale = max(need_h / photo.shape[0], need_w / photo.shape[1], 1.0)
    if scale > 1.0:
        size = (int(photo.shape[1] * scale) + 1, int(photo.shape[0] * scale) + 1)
        photo = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC)
    x0 = abs(step[0]) * frames if step[0] < 0 else 0
    y0 = abs(step[1]) * frames if step[1] < 0 else 0
    return np.stack(
        [photo[y0 + step[1] * t : y0 + step[1] * t + height, x0 + step[0] * t : x0 + step[0] * t + width] for t in range(frames)]
    )


def hole_masks(frames: int, height: int, width: int, kind: str) -> np.ndarray:
    """A rectangle of 1/5 x 1/6 of the frame: fixed in the centre, or sweeping across it."""
    masks = np.zeros((frames, height, width), dtype=bool)
    hole_h, hole_w = max(4, height // 5), max(4, width // 6)
    top = (height - hole_h) // 2
    for t in range(frames):
        if kind == "static":
            left = (width - hole_w) // 2
        else:
            left = int(round((width - hole_w) * (0.2 + 0.6 * t / max(frames - 1, 1))))
        masks[t, top : top + hole_h, left : left + hole_w] = True
    return masks


def psnr_in_mask(repaired: np.ndarray, truth: np.ndarray, masks: np.ndarray) -> float:
    return round(psnr(repaired, truth, masks), 2)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def speed_case(width: int, height: int, frames: int, repeats: int) -> dict:
    clean = procedural_clip(frames, height, width, seed=0)
    masks = hole_masks(frames, height, width, "moving") | hole_masks(frames, height, width, "static")
    damaged = clean.copy()
    damaged[masks] = 0
    forward, backward = estimate_video_flows(damaged, masks)
    tensors = (
        torch.from_numpy(damaged).permute(0, 3, 1, 2).float()[None],
        torch.from_numpy(masks).float()[None, :, None],
        torch.from_numpy(forward).permute(0, 3, 1, 2)[None],
        torch.from_numpy(backward).permute(0, 3, 1, 2)[None],
    )
    stages = {
        "flow_estimation": lambda: estimate_video_flows(damaged, masks),
        "propagation_only": lambda: propagate_known_pixels(*tensors),
        "propagation_guess": lambda: propagation_guess(damaged, masks),
        "telea": lambda: inpaint_frames(damaged, masks, "telea"),
        "ns": lambda: inpaint_frames(damaged, masks, "ns"),
    }
    with torch.no_grad():
        fps = {name: frames / median_seconds(work, repeats) for name, work in stages.items()}
    return {
        "size": f"{width}x{height}",
        "frames": frames,
        "mask_ratio": round(float(masks.mean()), 4),
        "frames_per_second": {name: round(value, 1) for name, value in fps.items()},
        "ratio_to_telea": {name: round(value / fps["telea"], 3) for name, value in fps.items()},
    }


def quality_case(name: str, clean: np.ndarray, kind: str) -> dict:
    frames, height, width = clean.shape[:3]
    masks = hole_masks(frames, height, width, kind)
    damaged = clean.copy()
    damaged[masks] = 0
    completed = estimate_video_flows(damaged, masks)
    through_damage = estimate_video_flows(damaged, None)
    guess, validity = propagation_guess(damaged, masks, flows=completed)
    uncompleted, _ = propagation_guess(damaged, masks, flows=through_damage)
    scores = {
        "propagate": psnr_in_mask(guess, clean, masks),
        "propagate_no_completion": psnr_in_mask(uncompleted, clean, masks),
        "telea": psnr_in_mask(inpaint_frames(damaged, masks, "telea"), clean, masks),
        "ns": psnr_in_mask(inpaint_frames(damaged, masks, "ns"), clean, masks),
    }
    return {
        "clip": name,
        "size": f"{width}x{height}",
        "hole": kind,
        "propagated_fraction": round(float(validity[masks].mean()), 3),
        "psnr_in_mask": scores,
        "gain_over_telea_db": round(scores["propagate"] - scores["telea"], 2),
    }


def quality_clips(frames: int) -> list[tuple[str, np.ndarray]]:
    clips = [(f"procedural-seed{seed}", procedural_clip(frames, 144, 176, seed)) for seed in range(4)]
    clips += [(f"procedural-seed{seed}-432", procedural_clip(frames, 240, 432, seed)) for seed in range(2)]
    clips += [
        ("pan-coffee", pan_over_photo("coffee", frames, 144, 176, (3, 1))),
        ("pan-chelsea", pan_over_photo("chelsea", frames, 144, 176, (-2, 1))),
    ]
    return clips


def summarise(quality: list[dict]) -> dict:
    """Mean PSNR per method and the gain over Telea, per clip family and hole kind.

    Integer pans over a photo let propagation copy pixels exactly (tens of dB of gain), so
    they are summarised apart from the procedural clips (sub-pixel pan, zoom, roll, sprites).
    """
    summary = {}
    for family in ("procedural", "pan"):
        for kind in ("static", "moving"):
            rows = [row for row in quality if row["hole"] == kind and row["clip"].startswith(family)]
            means = {
                method: round(statistics.mean(row["psnr_in_mask"][method] for row in rows), 2)
                for method in rows[0]["psnr_in_mask"]
            }
            gains = [row["gain_over_telea_db"] for row in rows]
            means["gain_over_telea_db"] = {"mean": round(statistics.mean(gains), 2), "min": min(gains), "max": max(gains)}
            summary[f"{family}-{kind}"] = means
    return summary


def print_tables(speed: list[dict], quality: list[dict], summary: dict) -> None:
    stages = list(speed[0]["frames_per_second"])
    print(f"{'size':>9} {'frames':>6} " + " ".join(f"{name:>18}" for name in stages))
    for row in speed:
        cells = [f"{row['frames_per_second'][s]:8.1f} ({row['ratio_to_telea'][s]:5.2f}x)" for s in stages]
        print(f"{row['size']:>9} {row['frames']:>6} " + " ".join(f"{cell:>18}" for cell in cells))
    print("\nPSNR inside the mask (dB)")
    methods = list(quality[0]["psnr_in_mask"])
    print(f"{'clip':>24} {'hole':>7} {'filled':>6} " + " ".join(f"{m:>24}" for m in methods))
    for row in quality:
        print(
            f"{row['clip']:>24} {row['hole']:>7} {row['propagated_fraction']:6.2f} "
            + " ".join(f"{row['psnr_in_mask'][m]:24.2f}" for m in methods)
        )
    for kind, means in summary.items():
        gain = means["gain_over_telea_db"]
        print(
            f"{kind:>17} mean: "
            + ", ".join(f"{m} {means[m]:.2f}" for m in methods)
            + f"; propagate - telea: mean {gain['mean']:+.2f} dB (min {gain['min']:+.2f}, max {gain['max']:+.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="176x144,432x240", help="comma-separated WIDTHxHEIGHT for the speed runs")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads; propagation is small gathers, where more threads mostly add "
        "synchronisation (and stall badly when the CPU is shared)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_propagation.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)

    speed = []
    for size in args.sizes.split(","):
        width, height = (int(part) for part in size.lower().split("x"))
        speed.append(speed_case(width, height, args.frames, args.repeats))
    quality = [quality_case(name, clip, kind) for name, clip in quality_clips(args.frames) for kind in ("static", "moving")]
    summary = summarise(quality)
    print_tables(speed, quality, summary)

    report = {
        "machine": platform.platform(),
        "processor": platform.processor(),
        "torch_threads": torch.get_num_threads(),
        "speed": speed,
        "quality": quality,
        "quality_summary": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(report, indent=2) + "\n")
    temporary.replace(args.out)  # never leave a half-written report behind


if __name__ == "__main__":
    main()
