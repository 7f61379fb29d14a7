#!/usr/bin/env bash
# The CUDA path in one run of at most 10 minutes on one GPU: bf16 and fp32 training steps,
# fp32/bf16/fp16 inference quality and speed, streamed repair throughput at 480p.
# Usage, from the project root on a machine with an NVIDIA GPU and the project importable:
#     bash benchmarks/cuda_checks.sh OUT_DIR
# The flows are measured on the CPU and dominate the time; the propagation runs on the GPU
# (benchmarks/results/bench_precision_cuda_gpu_propagation.json: on an H200 at 432x240, seedvr
# 0.90 s a frame, propagate 0.92).
# Each step has its own time limit, so one that hangs leaves the others' JSON in OUT_DIR.
set -uo pipefail
out=${1:?usage: cuda_checks.sh OUT_DIR}
mkdir -p "$out"
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

step() {  # step NAME SECONDS COMMAND...: run with a limit, keep going on failure
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    local started=$SECONDS
    timeout "$limit" "$@" 2>&1 | grep -v "Loading pipeline components" | tail -n 12
    echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - started)) s"
}

step precision 150 "$python" benchmarks/bench_precision.py --device cuda --sizes 432x240 --frames 8 \
    --precisions fp32,bf16,fp16 --out "$out/bench_precision_cuda.json"
step train-bf16 150 "$python" benchmarks/bench_train.py --device cuda --bf16 --presets tiny,base --crops 128,256 \
    --frames 8 --batch 4 --repeats 5 --out "$out/bench_train_cuda_bf16.json"
step train-fp32 150 "$python" benchmarks/bench_train.py --device cuda --presets tiny,base --crops 128,256 \
    --frames 8 --batch 4 --repeats 5 --out "$out/bench_train_cuda_fp32.json"
step repair-480p 150 "$python" benchmarks/bench_repair.py --device cuda --precisions fp32,bf16 --sizes 854x480 \
    --frames 16 --mask-ratios 0.05 --methods propagate,seedvr --crop --out "$out/bench_repair_cuda.json"
