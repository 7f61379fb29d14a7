"""The window-memory estimate (benchmarks/bench_window_memory.py) counts what a real run allocates."""

from __future__ import annotations

import torch
from benchmark_scripts import load_benchmark_script

bench = load_benchmark_script("bench_window_memory.py")


def test_live_bytes_count_new_tensors_not_views_and_forget_freed_ones():
    with bench.LiveBytes() as counter:
        base = torch.ones(1000, device="meta")  # 4000 bytes
        view = base.view(10, 100)
        base.add_(1.0)  # in place: no new memory
        assert counter.live == 4000
        doubled = base * 2
        assert counter.live == 8000
        del doubled
        assert counter.live == 4000 and counter.peak == 8000
        del view, base
        assert counter.live == 0


def test_the_meta_estimate_equals_the_count_on_real_tensors():
    meta = bench.measure_window("tiny", 4, 32, 48, torch.float32, device="meta")
    real = bench.measure_window("tiny", 4, 32, 48, torch.float32, device="cpu", fused=False)
    assert meta["calls"] == real["calls"]
    assert meta["window_peak_bytes"] == real["window_peak_bytes"] > meta["weight_bytes"] + meta["condition_bytes"]
    # The math path materialises the score matrices, but only for one slab of frames at a time
    # (the blocks attend slab by slab): never less memory, and at most one slab's scores more.
    upper = bench.measure_window("tiny", 4, 32, 48, torch.float32, device="meta", fused=False)
    assert upper["window_peak_bytes"] >= meta["window_peak_bytes"]
