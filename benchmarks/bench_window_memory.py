"""Memory one window of the learned stages needs, per model preset, without allocating it.

The ``7b`` preset (SeedVR 7B width) cannot run on this machine, yet how much memory one window
needs decides what a GPU can hold. Every component is built on PyTorch's *meta* device (shapes
and dtypes, no storage) and run through a window exactly as :class:`SeedVRPipeline` runs it:
the temporal encoder once at the coarsest scale, the denoiser at each scale of the schedule,
the detail and texture networks at full resolution. :class:`LiveBytes` watches every operator
below autograd (a ``TorchDispatchMode``) and keeps the bytes of the tensors alive at each
moment: an operator's output counts from its creation until Python frees it, unless the
operator's schema says the output aliases an input (views, in-place ops: no new memory).
The peak of each call is the activation memory it needs on top of what exists before it.

Reported per preset: parameter count and weight bytes in the chosen dtype, the window's
conditioning tensors, the activation peak of each component call, and
``window_peak_bytes`` = weights + conditions + the largest call's peak (calls run one after
the other; inference keeps no graph). It is an estimate of tensor memory: allocator caching,
workspace of fused kernels and CUDA context (~0.5-1 GB) come on top. For ``tiny`` the same
count is also taken on real CPU tensors, which must give the same bytes as the meta run.
Nothing here asserts a size. From the project root:

    .venv/bin/python benchmarks/bench_window_memory.py --out benchmarks/results/bench_window_memory.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import time
import weakref
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from seedvr.models.presets import COMPONENT_CLASSES, build_models, count_parameters
from seedvr.pipeline.scheduler import HierarchicalRepairScheduler

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


class LiveBytes(TorchDispatchMode):
    """Bytes of the tensors created under this mode that are still alive, and their peak."""

    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0

    def _free(self, size: int) -> None:
        self.live -= size

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        # An output the schema marks as aliasing an input (a view, an in-place op) owns no new memory.
        if any(ret.alias_info is not None for ret in func._schema.returns):
            return result
        for tensor in tree_flatten(result)[0]:
            if isinstance(tensor, torch.Tensor):
                size = tensor.untyped_storage().nbytes()
                self.live += size
                self.peak = max(self.peak, self.live)
                weakref.finalize(tensor, self._free, size)
        return result

    def reset_peak(self) -> None:
        self.peak = self.live


def _fused_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Attention through the fused kernel (output and log-sum-exp only, no score matrix)."""
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask = torch.zeros(attn_mask.shape, dtype=query.dtype, device=query.device).masked_fill(~attn_mask, float("-inf"))
    return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(query, key, value, attn_mask=attn_mask, scale=scale)[0]


@contextlib.contextmanager
def fused_attention_everywhere():
    """Make every ``scaled_dot_product_attention`` call take the fused kernel.

    On the meta device PyTorch has no fused backend to choose and falls back to the math
    path, which materialises every score matrix; the CPU and CUDA kernels the pipeline runs
    on do not. The fused op has a meta implementation, so the count matches a real run.
    """
    original = torch.nn.functional.scaled_dot_product_attention
    torch.nn.functional.scaled_dot_product_attention = _fused_attention
    try:
        yield
    finally:
        torch.nn.functional.scaled_dot_product_attention = original


def window_tensors(frames: int, height: int, width: int, device: torch.device, dtype: torch.dtype) -> dict:
    """The conditioning tensors of one window (the shapes :class:`RepairConditions` holds)."""

    def video(channels: int) -> torch.Tensor:
        return torch.zeros(1, frames, channels, height, width, device=device, dtype=dtype)

    return {"frames": video(3), "mask": video(1), "guess": video(3), "validity": video(1), "spatial": video(3), "flow": video(2)}


def _resized(tensors: dict, height: int, width: int) -> dict:
    def resize(video: torch.Tensor) -> torch.Tensor:
        batch, frames, channels = video.shape[:3]
        flat = video.reshape(batch * frames, channels, *video.shape[-2:])
        small = torch.nn.functional.interpolate(flat, size=(height, width), mode="bilinear", align_corners=False)
        return small.reshape(batch, frames, channels, height, width)

    return {name: resize(value) for name, value in tensors.items()}


def measure_window(
    preset: str, frames: int, height: int, width: int, dtype: torch.dtype, device: str = "meta", fused: bool = True
) -> dict:
    """Weights, conditions and the activation peak of each component call for one window
    (``fused``: attention as the fused kernels run it; else the math path's score matrices)."""
    torch_device = torch.device(device)
    models = {name: model.to(dtype).eval() for name, model in build_models(preset, device=torch_device, seed=0).items()}
    weight_bytes = sum(p.numel() * p.element_size() for model in models.values() for p in model.parameters())
    stages = HierarchicalRepairScheduler().plan(height, width)
    calls = []
    attention = fused_attention_everywhere() if fused else contextlib.nullcontext()
    with torch.no_grad(), attention, LiveBytes() as counter:
        full = window_tensors(frames, height, width, torch_device, dtype)
        condition_bytes = counter.live

        def call(name: str, scale: str, *inputs) -> torch.Tensor:
            counter.reset_peak()
            before = counter.live
            output = models[name](*inputs)
            calls.append({"component": name, "scale": scale, "activation_peak_bytes": counter.peak - before})
            return output

        coarse = _resized(full, stages[0].height, stages[0].width)
        masked = coarse["frames"] * (1 - coarse["mask"])
        conditions = (coarse["mask"], coarse["guess"], coarse["validity"], coarse["flow"])
        features = call("temporal_encoder", stages[0].name, masked, *conditions)
        del masked, coarse, conditions  # the pipeline keeps only the features from here on
        timestep = torch.full((1,), 500, device=torch_device)
        for stage in stages:
            scaled = full if stage.scale == 1.0 else _resized(full, stage.height, stage.width)
            masked = scaled["frames"] * (1 - scaled["mask"])
            conditions = (scaled["mask"], scaled["guess"], scaled["validity"], scaled["spatial"])
            estimate = call("denoiser", stage.name, scaled["guess"], timestep, masked, *conditions, features)
            del scaled, masked, conditions
        masked = full["frames"] * (1 - full["mask"])
        estimate = call("detail_net", "fine", estimate, masked, full["mask"], full["guess"], full["validity"])
        call("texture_net", "fine", estimate, masked, full["mask"])
    largest = max(calls, key=lambda entry: entry["activation_peak_bytes"])
    return {
        "preset": preset,
        "device": device,
        "attention": "fused" if fused else "math",
        "window": {"frames": frames, "height": height, "width": width},
        "parameters": count_parameters(preset)["total"],
        "weight_bytes": weight_bytes,
        "condition_bytes": condition_bytes,
        "calls": calls,
        "largest_call": f"{largest['component']} ({largest['scale']})",
        "window_peak_bytes": weight_bytes + condition_bytes + largest["activation_peak_bytes"],
    }


def _gib(value: int) -> float:
    return round(value / 2**30, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,small,base,7b")
    parser.add_argument("--frames", type=int, default=32, help="frames in a window (repair.chunk)")
    parser.add_argument("--size", default="432x240", help="WIDTHxHEIGHT of the window")
    parser.add_argument("--dtype", choices=sorted(_DTYPES), default="bf16")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_window_memory.json"))
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.lower().split("x"))
    dtype = _DTYPES[args.dtype]
    started = time.perf_counter()
    results = [measure_window(name, args.frames, height, width, dtype) for name in args.presets.split(",")]
    # Upper bound: attention through the math path (every score matrix materialised).
    math_bound = {name: measure_window(name, args.frames, height, width, dtype, fused=False) for name in args.presets.split(",")}
    for entry in results:
        entry["window_peak_bytes_math_attention"] = math_bound[entry["preset"]]["window_peak_bytes"]
    if "tiny" in args.presets.split(","):
        # The same count on real tensors: shapes and lifetimes on the meta device are the real ones.
        real = measure_window("tiny", args.frames, height, width, dtype, device="cpu", fused=False)
        meta = next(entry for entry in results if entry["preset"] == "tiny")
        meta["cpu_check"] = {"window_peak_bytes": real["window_peak_bytes"], "equal": real["calls"] == meta["calls"]}
    report = {
        "benchmark": "bench_window_memory",
        "command": "python benchmarks/bench_window_memory.py "
        + " ".join(f"--{key.replace('_', '-')} {value}" for key, value in vars(args).items()),
        "machine": platform.platform(),
        "torch": torch.__version__,
        "dtype": args.dtype,
        "components": list(COMPONENT_CLASSES),
        "results": results,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for entry in results:
        print(
            f"{entry['preset']:>5}: weights {_gib(entry['weight_bytes'])} GiB, conditions {_gib(entry['condition_bytes'])} GiB, "
            f"largest call {entry['largest_call']}, window peak {_gib(entry['window_peak_bytes'])} GiB ({args.dtype})"
        )


if __name__ == "__main__":
    main()
