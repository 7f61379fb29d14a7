"""What each learned stage of the model adds on real footage, measured on the same conditions.

``seedvr`` is the fused propagation guess, then coarse-to-fine diffusion passes, then the
detail and texture networks at full resolution (:class:`seedvr.pipeline.SeedVRPipeline`).
This benchmark computes the conditions of each real-footage case once
(:data:`seedvr.evaluate.real_footage.CASES`, pixels under the mask destroyed) and repairs it
four ways from them:

- ``guess``: the propagation guess alone (what ``propagate`` returns);
- ``diffusion``: the diffusion passes on the guess, not refined;
- ``refinement``: the detail and texture networks on the guess, no diffusion pass;
- ``seedvr``: both, as ``seedvr repair`` runs the model (the same figures as
  ``bench_quality.py``'s ``seedvr``, same seed and steps).

The three model variants are composited as the pipeline composites a repair
(``SeedVRPipeline.composite``: each correction of the guess bounded by the guess' temporal
envelope). Each variant's gain over ``guess`` says which stage earns its keep and on which case
it costs.
From the project root:

    .venv/bin/python benchmarks/bench_stages.py
    .venv/bin/python benchmarks/bench_stages.py --model models/seedvr-base --cases tree,vtest

Writes ``benchmarks/results/bench_stages.json`` (PSNR inside the mask and E_warp of the
repaired region per case and variant, means, per-kind mean gains, seconds of each stage) and
prints a table; asserts nothing. Without the footage cache and the package index: one line,
exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from bench_quality import REPO_ROOT, add_case_options, provenance, run_case_script, write_report

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_stages.json"
VARIANTS = ("guess", "diffusion", "refinement", "seedvr")
VARIANT_NOTES = {
    "guess": "the fused propagation guess alone (= propagate)",
    "diffusion": "the coarse-to-fine diffusion passes on the guess, without the detail and texture networks",
    "refinement": "the detail and texture networks on the guess, without any diffusion pass",
    "seedvr": "diffusion passes then detail and texture networks: the model as seedvr repair runs it",
}


def stage_repairs(pipeline, damaged: np.ndarray, masks: np.ndarray, steps: int | None, seed: int) -> tuple[dict, dict]:
    """The four variants' repaired clips (``uint8``, input bytes outside ``masks``) and the
    seconds of each part: conditions, diffusion passes, refinement of their result."""
    import torch

    def composited(estimate: torch.Tensor) -> np.ndarray:
        return pipeline.composite(estimate, damaged, masks, guess)

    seconds = {}
    with torch.no_grad():
        started = time.perf_counter()
        conditions, guess = pipeline.prepare_conditions(damaged, masks)
        seconds["conditions"] = time.perf_counter() - started
        started = time.perf_counter()
        # Seeded per clip as ``seedvr repair`` seeds each window (engine.methods.pipeline_method).
        diffused = pipeline.diffuse(conditions, steps, torch.Generator("cpu").manual_seed(seed))
        seconds["diffusion"] = time.perf_counter() - started
        started = time.perf_counter()
        full = pipeline.refine_details(diffused, conditions)
        seconds["refinement"] = time.perf_counter() - started
        refined_guess = pipeline.refine_details(conditions.guess, conditions)
    repaired = {
        "guess": np.where(masks[..., None], guess, damaged),
        "diffusion": composited(diffused),
        "refinement": composited(refined_guess),
        "seedvr": composited(full),
    }
    return repaired, seconds


def stages_case(pipeline, case, steps: int | None, seed: int) -> dict:
    from seedvr.evaluate.real_footage import case_record
    from seedvr.metrics import psnr, warping_error_in_mask
    from seedvr.ops.flow import estimate_video_flows

    repaired, seconds = stage_repairs(pipeline, case.damaged.copy(), case.mask.copy(), steps, seed)
    truth_flows = estimate_video_flows(case.clean)
    scores = {name: round(psnr(frames, case.clean, case.mask), 3) for name, frames in repaired.items()}
    ewarp = {
        name: round(warping_error_in_mask(frames, case.clean, case.mask, target_flows=truth_flows), 4)
        for name, frames in repaired.items()
    }
    return {
        **case_record(case),
        "psnr_mask": scores,
        "ewarp_mask": ewarp,
        "gain_over_guess_db": {name: round(scores[name] - scores["guess"], 3) for name in VARIANTS[1:]},
        "sec_per_frame": {part: round(value / len(case.clean), 4) for part, value in seconds.items()},
    }


def summarize(records: list[dict]) -> dict:
    """Mean scores and gains over the cases, the worst case per variant, mean gains per kind."""
    stages = VARIANTS[1:]
    kinds = list(dict.fromkeys(kind for record in records for kind in record["kinds"]))

    def mean(values) -> float:
        return round(float(np.mean(list(values))), 3)

    return {
        "mean_psnr_mask": {name: mean(r["psnr_mask"][name] for r in records) for name in VARIANTS},
        "mean_ewarp_mask": {name: round(float(np.mean([r["ewarp_mask"][name] for r in records])), 4) for name in VARIANTS},
        "mean_gain_over_guess_db": {name: mean(r["gain_over_guess_db"][name] for r in records) for name in stages},
        "worst_case": {
            name: min(
                ({"case": r["name"], "gain_db": r["gain_over_guess_db"][name]} for r in records), key=lambda c: c["gain_db"]
            )
            for name in stages
        },
        "per_kind_gain_over_guess_db": {
            kind: {name: mean(r["gain_over_guess_db"][name] for r in records if kind in r["kinds"]) for name in stages}
            for kind in kinds
        },
    }


def run(args: argparse.Namespace) -> dict:
    from seedvr.data.footage import footage_videos
    from seedvr.engine.methods import check_sampling, resolve_device
    from seedvr.evaluate import real_footage as bench
    from seedvr.pipeline.loading import load_pipeline
    from seedvr.pipeline.shipped import shipped_base_model

    started = time.perf_counter()
    check_sampling(args.steps, args.seed)
    specs = bench.select_cases(bench.CASES, args.cases)
    model = args.model or str(shipped_base_model())
    # The model first: one that cannot load fails before any footage is read.
    pipeline = load_pipeline(model, resolve_device(args.device), label=f"--model {model}")
    videos = footage_videos(args.cache)
    records = []
    for spec in specs:
        record = stages_case(pipeline, bench.load_case(spec, videos, args.frames), args.steps, args.seed)
        records.append(record)
        print(f"{record['name']}: " + ", ".join(f"{k} {v:.2f}" for k, v in record["psnr_mask"].items()), flush=True)
    report = {
        **provenance("stages_real_footage"),
        "model": {"path": model, "steps": args.steps, "seed": args.seed},
        "frames_per_case": args.frames,
        "variants": VARIANT_NOTES,
        "metrics": {
            "psnr_mask": "dB inside the mask",
            "ewarp_mask": "warping error of the repaired region x1e-3 (flow of the clean clip)",
            "sec_per_frame": "seconds per frame of the conditions (propagation), the diffusion passes, the refinement",
        },
        "cases": records,
        **summarize(records),
    }
    return write_report(report, args.out, started)


def print_table(report: dict) -> None:
    stages = VARIANTS[1:]
    print("\n| case | guess (dB) | " + " | ".join(f"{name} gain" for name in stages) + " |")
    print("|---|---:|" + "---:|" * len(stages))
    for r in report["cases"]:
        gains = " | ".join(f"{r['gain_over_guess_db'][name]:+.2f}" for name in stages)
        print(f"| {r['name']} | {r['psnr_mask']['guess']:.2f} | {gains} |")
    means = " | ".join(f"{report['mean_gain_over_guess_db'][name]:+.2f}" for name in stages)
    print(f"| mean | {report['mean_psnr_mask']['guess']:.2f} | {means} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="pipeline folder or models:/NAME@ALIAS (default: the shipped base)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed, as seedvr repair --seed")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_case_options(parser, DEFAULT_OUT)
    args = parser.parse_args(argv)
    report = run_case_script("bench_stages", run, args)
    if report is None:
        return 2
    print_table(report)
    print(f"\nwall time {report['wall_seconds']} s; wrote {Path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
