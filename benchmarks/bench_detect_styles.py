"""Damage detection on film damage the project's generators do not draw: does the detector
know damage, or only our damage?

The detector learned scratches, blotches and dust as ``seedvr/data/damage`` paints them: near-neutral
grey tones with grain and soft edges. Users' film carries other looks, and issue 13 names them:
bright and dark specks, lines of any colour. Here each real video (the opencv sample videos,
frames outside every real-footage benchmark case) gets damage drawn with plain OpenCV primitives
in six styles: thin near-vertical lines that drift (white, black, a saturated colour), filled
discs of 1-3 px radius (black, white) and flat ellipses of 5-17 px radius, light or dark, in
every third frame; hard edges, no grain. The drawn pixels are the truth. Scores are those of
``seedvr detect`` (threshold 0.5, no growth): precision and recall with 1 px of tolerance, IoU
strict, per clip and style. The damage is drawn from one seed, the same for every detector, so
two detectors' JSONs compare clip by clip. From the project root:

    .venv/bin/python benchmarks/bench_detect_styles.py
    .venv/bin/python benchmarks/bench_detect_styles.py --detector work/detector --out /tmp/styles.json
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from bench_quality import REPO_ROOT, provenance, run_case_script, write_report

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_detect_styles.json"
SOURCES = ("vtest", "box", "megamind")
STYLES = ("white_lines", "black_lines", "colour_lines", "black_specks", "white_specks", "flat_blotches")
LINE_COLOURS = {"white_lines": (250, 250, 250), "black_lines": (10, 10, 10), "colour_lines": (40, 220, 60)}
SPECK_COLOURS = {"black_specks": (5, 5, 5), "white_specks": (245, 245, 245)}
SIZE = (432, 240)
SEED = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default=None, help="detector folder (default: the shipped one)")
    parser.add_argument("--frames", type=int, default=24, help="frames per clip")
    parser.add_argument("--cache", default=None, help="footage cache folder (default $SEEDVR_CACHE or ~/.cache/seedvr)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    return parser.parse_args(argv)


def unseen_clip(name: str, videos: dict, frames: int) -> np.ndarray:
    """``frames`` frames of video ``name`` at :data:`SIZE`, from its first window that no
    real-footage benchmark case reads."""
    from seedvr.data.footage import free_windows
    from seedvr.errors import SeedVRError
    from seedvr.evaluate.real_footage import benchmark_frames, fit_to_size
    from seedvr.io import probe, read_clip

    path = videos[name]
    windows = free_windows(probe(path).frames, benchmark_frames(videos).get(name, []), frames)
    if not windows:
        raise SeedVRError(f"{name} has no {frames} frames outside the real-footage benchmark's cases")
    clip, _ = read_clip(path, windows[0][0], frames)
    return fit_to_size(clip, *SIZE)[0]


def draw_style(clean: np.ndarray, style: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``clean`` with damage drawn in ``style`` (opaque, hard-edged) and the drawn pixels."""
    import cv2

    frames, height, width = clean.shape[:3]
    damaged, truth = clean.copy(), np.zeros(clean.shape[:3], bool)
    lines_x = rng.uniform(40, width - 40, 3)
    for index in range(frames):
        paint = np.zeros((height, width, 3), np.uint8)
        drawn = np.zeros((height, width), np.uint8)
        if style in LINE_COLOURS:
            for number, x in enumerate(lines_x):
                x = int(x + 3 * np.sin(index / 5 + number))  # scratches drift slowly
                ends, thickness = ((x, 0), (x + 6, height - 1)), 1 + number % 2
                cv2.line(paint, *ends, LINE_COLOURS[style], thickness)
                cv2.line(drawn, *ends, 255, thickness)
        elif style in SPECK_COLOURS:
            for _ in range(12):
                centre, radius = (int(rng.integers(0, width)), int(rng.integers(0, height))), int(rng.integers(1, 4))
                cv2.circle(paint, centre, radius, SPECK_COLOURS[style], -1)
                cv2.circle(drawn, centre, radius, 255, -1)
        elif index % 3 == 0:  # flat blotches, one frame in three
            centre = (int(rng.integers(20, width - 20)), int(rng.integers(20, height - 20)))
            axes, angle = (int(rng.integers(5, 18)), int(rng.integers(5, 18))), float(rng.uniform(0, 180))
            tone = (235, 235, 225) if rng.random() < 0.5 else (20, 15, 10)
            cv2.ellipse(paint, centre, axes, angle, 0, 360, tone, -1)
            cv2.ellipse(drawn, centre, axes, angle, 0, 360, 255, -1)
        hit = drawn > 0
        damaged[index][hit] = paint[hit]
        truth[index] = hit
    return damaged, truth


def run(args: argparse.Namespace) -> dict:
    from seedvr.config import DetectorParams
    from seedvr.data.footage import footage_videos
    from seedvr.engine.detect import detect_damage, load_detector
    from seedvr.metrics.detection import detection_scores

    started = time.perf_counter()
    params = DetectorParams()
    detector = load_detector(args.detector)
    videos = footage_videos(args.cache)
    rng = np.random.default_rng(SEED)
    report = {
        **provenance("detect_styles"),
        "detector": args.detector or "models/seedvr-detector",
        "threshold": params.threshold,
        "tolerance_px": 1,
        "frames_per_clip": args.frames,
        "size": "x".join(map(str, SIZE)),
        "clips": [],
    }
    for name in SOURCES:
        clean = unseen_clip(name, videos, args.frames)
        for style in STYLES:
            damaged, truth = draw_style(clean, style, rng)
            found = detect_damage(damaged, detector, params.threshold, params.dilate, params.scales)
            scores = detection_scores(found, truth).to_dict()
            report["clips"].append({"source": name, "style": style, "scores": scores})
            print(f"{name} {style}: P {scores['precision']:.3f} R {scores['recall']:.3f}", file=sys.stderr, flush=True)
    report["per_style"] = {
        style: {
            key: float(np.mean([clip["scores"][key] for clip in report["clips"] if clip["style"] == style]))
            for key in ("precision", "recall", "iou")
        }
        for style in STYLES
    }
    return write_report(report, args.out, started)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if run_case_script("bench_detect_styles", run, args) is None:
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
