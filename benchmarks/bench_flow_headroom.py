"""How much of propagation's error on real footage is the motion completed inside the holes.

The flow inside a hole cannot be measured on the damaged clip, only completed from around
and from the neighbouring frame pairs (:mod:`seedvr.ops.flow`). This benchmark repairs each
real-footage case (:data:`seedvr.evaluate.real_footage.CASES`, pixels under the mask
destroyed) by propagation along one flow, twice:

- ``completed``: the default hypothesis, the flow of the damaged clip completed in the holes
  (what ``propagate`` and ``seedvr`` start from, before fusing hypotheses);
- ``truth_in_holes``: the same flow, except inside each pair's holes, where it is the flow
  measured on the *clean* clip (unknowable in use: the ceiling a perfect flow completion
  would reach with today's propagation);

and reports the fused ``propagate`` beside them, plus the end-point error of the completed
flow inside the holes (full-resolution pixels). The gap between ``truth_in_holes`` and
``propagate`` is what better motion completion (a learned one, longer reference frames) can
still earn; nothing else in the repair changes between the two. From the project root:

    .venv/bin/python benchmarks/bench_flow_headroom.py
    .venv/bin/python benchmarks/bench_flow_headroom.py --cases tree,cup --frames 24

Writes ``benchmarks/results/bench_flow_headroom.json`` and prints a table; asserts nothing.
Without the footage cache and the package index: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from bench_quality import REPO_ROOT, add_case_options, provenance, run_case_script, write_report

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_flow_headroom.json"
VARIANTS = ("completed", "truth_in_holes", "propagate")


def pair_holes(masks: np.ndarray) -> np.ndarray:
    """bool ``[T-1, H, W]``: the pixels of pair ``t`` hidden in frame ``t`` or ``t+1``."""
    return masks[:-1] | masks[1:]


def hole_epe(flows: tuple[np.ndarray, np.ndarray], truth: tuple[np.ndarray, np.ndarray], holes: np.ndarray) -> float:
    """Mean end-point error (pixels) of both flow directions inside the pairs' holes."""
    errors = [np.linalg.norm(flow - true, axis=-1)[holes] for flow, true in zip(flows, truth)]
    return float(np.mean(np.concatenate(errors)))


def headroom_case(case) -> dict:
    from seedvr.metrics import psnr
    from seedvr.ops.flow import estimate_video_flows
    from seedvr.ops.fusion import fused_propagation
    from seedvr.ops.propagation import propagation_guess

    damaged, masks, clean = case.damaged, case.mask, case.clean
    completed = estimate_video_flows(damaged, masks)
    truth = estimate_video_flows(clean)
    holes = pair_holes(masks)
    truth_in_holes = tuple(np.where(holes[..., None], true, flow) for flow, true in zip(completed, truth))
    repaired = {
        "completed": propagation_guess(damaged, masks, flows=completed)[0],
        "truth_in_holes": propagation_guess(damaged, masks, flows=truth_in_holes)[0],
        "propagate": fused_propagation(damaged, masks).guess,
    }
    scores = {name: round(psnr(frames, clean, masks), 3) for name, frames in repaired.items()}
    return {
        "name": case.spec.name,
        "kinds": list(case.spec.kinds),
        "size": "{}x{}".format(*case.size),
        "mask_ratio": round(case.mask_ratio, 5),
        "psnr_mask": scores,
        "hole_flow_epe_px": round(hole_epe(completed, truth, holes), 4),
        "headroom_over_propagate_db": round(scores["truth_in_holes"] - scores["propagate"], 3),
    }


def run(args: argparse.Namespace) -> dict:
    from seedvr.data.footage import footage_videos
    from seedvr.evaluate import real_footage as bench

    started = time.perf_counter()
    specs = bench.select_cases(bench.CASES, args.cases)
    videos = footage_videos(args.cache)
    records = []
    for spec in specs:
        record = headroom_case(bench.load_case(spec, videos, args.frames))
        records.append(record)
        print(f"{record['name']}: " + ", ".join(f"{k} {v:.2f}" for k, v in record["psnr_mask"].items()), flush=True)
    means = {name: round(float(np.mean([r["psnr_mask"][name] for r in records])), 3) for name in VARIANTS}
    report = {
        **provenance("flow_headroom_real_footage"),
        "frames_per_case": args.frames,
        "variants": {
            "completed": "propagation along the default flow hypothesis, completed in the holes",
            "truth_in_holes": "the same, with the clean clip's flow inside each pair's holes (a ceiling)",
            "propagate": "the fused propagation baseline (all flow hypotheses)",
        },
        "cases": records,
        "mean_psnr_mask": means,
        "mean_hole_flow_epe_px": round(float(np.mean([r["hole_flow_epe_px"] for r in records])), 4),
        "mean_headroom_over_propagate_db": round(means["truth_in_holes"] - means["propagate"], 3),
    }
    return write_report(report, args.out, started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_options(parser, DEFAULT_OUT)
    args = parser.parse_args(argv)
    report = run_case_script("bench_flow_headroom", run, args)
    if report is None:
        return 2
    print(
        "\n| case | completed | truth in holes | propagate | headroom (dB) | hole flow EPE (px) |\n|---|---:|---:|---:|---:|---:|"
    )
    for r in report["cases"]:
        s = r["psnr_mask"]
        print(
            f"| {r['name']} | {s['completed']:.2f} | {s['truth_in_holes']:.2f} | {s['propagate']:.2f} "
            f"| {r['headroom_over_propagate_db']:+.2f} | {r['hole_flow_epe_px']:.2f} |"
        )
    m = report["mean_psnr_mask"]
    print(
        f"| mean | {m['completed']:.2f} | {m['truth_in_holes']:.2f} | {m['propagate']:.2f} "
        f"| {report['mean_headroom_over_propagate_db']:+.2f} | {report['mean_hole_flow_epe_px']:.2f} |"
    )
    print(f"\nwall time {report['wall_seconds']} s; wrote {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
