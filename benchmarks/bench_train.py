"""Training throughput and peak memory per model preset and crop size.

Each case runs in its own process: one LightningModule training step (diffusion loss at the
fine and one coarser scale, SeedVR loss through the detail/texture networks, AdamW) is timed
over a few repetitions on a fixed batch prepared from a procedural source clip with stroke damage.
Reported per case: samples/s, seconds/step, peak RSS (and peak CUDA memory on a GPU), and
the ratio of samples/s to the tiny preset at the same crop, measured in the same run. The
data loading (flow + propagation) is timed separately, since it runs in loader workers.

    .venv/bin/python benchmarks/bench_train.py --presets tiny,small --crops 32,64
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

CASE_SCRIPT = r"""
import json, resource, sys, time
import seedvr  # first: it sets OMP_WAIT_POLICY before torch loads
import numpy as np, torch
args = json.loads(sys.argv[1])
from fractions import Fraction
from seedvr.data import plan_source_clips, render_clip
from seedvr.config import Params
from seedvr.data import apply_damage
from seedvr.losses import SeedVRLoss
from seedvr.pipeline.pipeline import SeedVRPipeline
from seedvr.train.module import SeedVRLightningModule
from seedvr.train.samples import prepare_sample

device = torch.device(args["device"])
params = Params()
frames = render_clip(plan_source_clips(1, args["frames"], args["crop"], args["crop"], seed=0, fps=Fraction(24))[0])
rng = np.random.default_rng(0)
started = time.perf_counter()
samples = []
for index in range(args["batch"]):
    damaged, mask, _ = apply_damage(frames, ["stroke"], rng, (0.05, 0.2))
    samples.append(prepare_sample(frames, damaged, mask))
loading = (time.perf_counter() - started) / args["batch"]
batch = {key: torch.stack([s[key] for s in samples]).to(device) for key in samples[0]}
pipeline = SeedVRPipeline.from_preset(args["preset"], seed=0)
module = SeedVRLightningModule(pipeline, SeedVRLoss.from_params(params.loss)).to(device)
optimizer = torch.optim.AdamW(module.parameters(), lr=1e-4)
autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args["bf16"])

def step():
    with autocast:
        terms, _ = module.compute_losses(batch)
    terms["total"].backward()
    torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)

step()  # warm-up: allocations, kernel selection
if device.type == "cuda":
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
started = time.perf_counter()
for _ in range(args["repeats"]):
    step()
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = (time.perf_counter() - started) / args["repeats"]
print(json.dumps({
    "seconds_per_step": seconds,
    "samples_per_second": args["batch"] / seconds,
    "loading_seconds_per_sample": loading,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "peak_cuda_mb": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None,
    "parameters": sum(p.numel() for p in module.parameters()),
}))
"""


def run_case(case: dict) -> dict:
    completed = subprocess.run([sys.executable, "-c", CASE_SCRIPT, json.dumps(case)], capture_output=True, text=True)
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()
        return {"error": tail[-1] if tail else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,small")
    parser.add_argument("--crops", default="32,64,128")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (the GPU training precision)")
    parser.add_argument("--out", default="benchmarks/results/bench_train.json")
    args = parser.parse_args()

    rows = []
    for crop in [int(c) for c in args.crops.split(",")]:
        for preset in args.presets.split(","):
            case = {
                "preset": preset,
                "crop": crop,
                "frames": args.frames,
                "batch": args.batch,
                "repeats": args.repeats,
                "device": args.device,
                "bf16": args.bf16,
            }
            result = {**case, **run_case(case)}
            rows.append(result)
            print(json.dumps(result), flush=True)
        tiny = next((r for r in rows if r["crop"] == crop and r["preset"] == "tiny" and "samples_per_second" in r), None)
        for row in rows:
            if row["crop"] == crop and tiny and "samples_per_second" in row:
                row["speed_vs_tiny"] = round(row["samples_per_second"] / tiny["samples_per_second"], 4)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "train", "machine": platform.platform(), "rows": rows}, indent=2))
    print(f"\n{'preset':<7} {'crop':>5} {'samples/s':>10} {'s/step':>8} {'load s/sample':>13} {'peak RSS MB':>11}")
    for row in rows:
        if "error" in row:
            print(f"{row['preset']:<7} {row['crop']:>5}  error: {row['error']}")
        else:
            print(
                f"{row['preset']:<7} {row['crop']:>5} {row['samples_per_second']:>10.3f} {row['seconds_per_step']:>8.2f} "
                f"{row['loading_seconds_per_sample']:>13.3f} {row['peak_rss_mb']:>11.0f}"
            )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
