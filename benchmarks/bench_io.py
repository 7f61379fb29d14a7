"""Speed of the video I/O layer: write, read (chunked) and probe, per output format.

Writes a JSON report; nothing here asserts a speed. Run from the project root:

    .venv/bin/python benchmarks/bench_io.py --frames 48 --out benchmarks/results/bench_io.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from seedvr.io import atomic_output, iter_video_chunks, probe, write_video

FORMATS = ("clip.mkv", "clip.mp4", "clip.webm", "frames")


def moving_texture(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A noise texture sliding one pixel per frame: compressible, but not trivially so."""
    base = np.random.default_rng(seed).integers(0, 256, (height, width + frames, 3), dtype=np.uint8)
    return np.stack([base[:, t : t + width] for t in range(frames)])


def measure(folder: Path, name: str, frames: np.ndarray, fps: Fraction, chunk_frames: int) -> dict:
    path = folder / name
    start = time.perf_counter()
    write_video(path, frames, fps)
    write_seconds = time.perf_counter() - start

    start = time.perf_counter()
    info = probe(path)
    probe_seconds = time.perf_counter() - start

    start = time.perf_counter()
    read_frames = sum(len(chunk) for chunk in iter_video_chunks(path, chunk_frames))
    read_seconds = time.perf_counter() - start

    size = sum(entry.stat().st_size for entry in path.iterdir()) if path.is_dir() else path.stat().st_size
    return {
        "format": name,
        "frames": info.frames,
        "frames_read": read_frames,
        "write_fps": round(len(frames) / write_seconds, 1),
        "read_fps": round(read_frames / read_seconds, 1),
        "probe_ms": round(probe_seconds * 1000, 2),
        "bytes_per_frame": size // len(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--sizes", default="256x256,1280x720", help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--chunk-frames", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_io.json"))
    args = parser.parse_args()

    fps = Fraction(30000, 1001)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-io-") as scratch:
        for size in args.sizes.split(","):
            width, height = (int(part) for part in size.lower().split("x"))
            frames = moving_texture(args.frames, height, width)
            for name in FORMATS:
                row = measure(Path(scratch), name, frames, fps, args.chunk_frames)
                row["size"] = f"{width}x{height}"
                results.append(row)
                print(json.dumps(row))
    report = {
        "machine": platform.platform(),
        "processor": platform.processor(),
        "frames": args.frames,
        "fps": str(fps),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
