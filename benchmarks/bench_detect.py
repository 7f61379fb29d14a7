"""Damage detection across frame sizes and detection scales: quality and speed.

Quality: the held-out clips a detector's model card is scored on (same photographs, same seed;
:func:`seedvr.evaluate.detection.heldout_clips`), rendered at each ``--sizes`` entry, detected
with each ``--scales`` setting: precision and recall (1 px of tolerance) and IoU per film kind,
and the share of the clean clips' pixels flagged. The generators draw damage in proportion to
the frame, so a larger size is wider damage: what the shrunk scales are for.

Speed: seconds per frame of detection (cues included) on one procedural clip at each size and
setting, on one thread, median of ``--repeats`` runs, with the ratio to the first setting
measured in the same run. Nothing here asserts a speed. From the project root:

    .venv/bin/python benchmarks/bench_detect.py
    .venv/bin/python benchmarks/bench_detect.py --sizes 432x240 --scales 1 1,0.4,0.25 --detector work/detector
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from fractions import Fraction

from bench_quality import REPO_ROOT, provenance, write_report

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_detect.json"
SPEED_SIZES = ("128x96", "432x240", "854x480")
SPEED_FRAMES = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["128x96", "432x240"], help="WIDTHxHEIGHT of the held-out clips")
    parser.add_argument("--speed-sizes", nargs="+", default=list(SPEED_SIZES), help="WIDTHxHEIGHT timed")
    parser.add_argument("--scales", nargs="+", default=["1", "1,0.4"], help="scale settings, each comma-separated")
    parser.add_argument("--detector", default=None, help="detector folder (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    return parser.parse_args(argv)


def size_of(text: str) -> tuple[int, int]:
    """``"432x240"`` -> ``(432, 240)`` (width, height); a clear error otherwise."""
    from seedvr.errors import SeedVRError

    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SeedVRError(f"a size is WIDTHxHEIGHT, got {text!r}") from None
    if width < 16 or height < 16:
        raise SeedVRError(f"a size must be at least 16x16, got {text!r}")
    return width, height


def quality(detector, params, photos, size, scales) -> dict:
    """Scores per kind of the held-out clips at ``size`` with ``scales``."""
    from seedvr.evaluate.detection import heldout_clips, score_detector

    scores = score_detector(detector, heldout_clips(params, photos, size), params.threshold, params.dilate, scales)
    return {kind: score.to_dict() for kind, score in scores.items()}


def seconds_per_frame(detector, params, photos, size, scales, repeats: int) -> float:
    """Median wall time per frame of detecting one procedural clip at ``size``."""
    import numpy as np

    from seedvr.data.synth import make_clip_spec, render_clip
    from seedvr.engine.detect import detect_damage

    width, height = size
    spec = make_clip_spec(
        np.random.default_rng(params.seed), "speed", photos[0], SPEED_FRAMES, width, height, Fraction(24), photos
    )
    frames = render_clip(spec)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        detect_damage(frames, detector, params.threshold, params.dilate, scales)
        times.append((time.perf_counter() - started) / SPEED_FRAMES)
    return statistics.median(times)


def run(args: argparse.Namespace) -> dict:
    import torch

    from seedvr.config import DetectorParams
    from seedvr.engine.detect import check_scales, load_detector
    from seedvr.evaluate.detection import card_photos

    started = time.perf_counter()
    settings = {text: check_scales(text) for text in args.scales}
    sizes = [size_of(text) for text in args.sizes]
    speed_sizes = [size_of(text) for text in args.speed_sizes]
    torch.set_num_threads(1)
    params = DetectorParams()
    detector = load_detector(args.detector)
    _, photos = card_photos()
    report = {
        **provenance("detect"),
        "detector": args.detector or "models/seedvr-detector",
        "threshold": params.threshold,
        "dilate": params.dilate,
        "tolerance_px": 1,
        "heldout_clips": params.heldout_clips,
        "quality": [],
        "speed": [],
    }
    for size in sizes:
        for text, scales in settings.items():
            scores = quality(detector, params, photos, size, scales)
            report["quality"].append({"size": "x".join(map(str, size)), "scales": list(scales), "scores": scores})
            print(_quality_line(size, text, scores), file=sys.stderr, flush=True)
    for size in speed_sizes:
        first = None
        for text, scales in settings.items():
            seconds = seconds_per_frame(detector, params, photos, size, scales, args.repeats)
            first = seconds if first is None else first
            ratio = seconds / first
            report["speed"].append(
                {"size": "x".join(map(str, size)), "scales": list(scales), "seconds_per_frame": seconds, "ratio_to_first": ratio}
            )
            print(f"{size[0]}x{size[1]} scales {text}: {seconds:.3f} s/frame (x{ratio:.2f})", file=sys.stderr, flush=True)
    return write_report(report, args.out, started)


def _quality_line(size, text: str, scores: dict) -> str:
    parts = []
    for kind, score in scores.items():
        if kind == "clean":
            parts.append(f"clean {100 * score['flagged_fraction']:.3f} % flagged")
        else:
            parts.append(f"{kind} P {score['precision']:.3f} R {score['recall']:.3f}")
    return f"{size[0]}x{size[1]} scales {text}: " + ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    from seedvr.errors import SeedVRError

    args = parse_args(argv)
    try:
        run(args)
    except SeedVRError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
