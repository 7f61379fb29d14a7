"""The same bytes from a training stage on any x86-64 host: a pinned thread count and kernel set.

A training stage's output is hashed into ``dvc.lock``, so a fresh-clone ``make run`` must write
the very bytes the lock holds. On the CPU, torch's convolutions run oneDNN kernels chosen for
the host's widest vector instructions and split over its threads, and each choice sums in
another order. Measured 2026-12-06 (``seedvr detect-finetune`` of the make-run dataset, 300
steps, one host): the default (AVX-512, 2 threads), oneDNN capped at AVX-512 with or without
VNNI, and torch's own kernels capped at AVX2 gave identical weights; oneDNN capped at AVX2 gave
other weights, and so did 1 thread instead of 2. Hosts lent to sessions differ (the fine-tuned
detector's hash in dvc.lock alternated between two values from one session to the next with
the code unchanged), so the stage pins both: oneDNN at AVX2, which every x86-64 host of the
last decade has, and :data:`STAGE_THREADS` threads. Same wall time on this 2-core host (78 s).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# The threads a pinned stage runs on: the cores of the machines `make run` is made for.
STAGE_THREADS = 2
# oneDNN reads it once, when it first picks a kernel; a value the user set is kept.
_ONEDNN_ISA = "ONEDNN_MAX_CPU_ISA"
PINNED_ISA = "AVX2"


@contextmanager
def pinned_cpu_numerics(threads: int = STAGE_THREADS) -> Iterator[None]:
    """Run the body on ``threads`` torch threads with oneDNN capped at AVX2 (unless the
    environment already caps it); the thread count and the environment are restored afterwards.

    The cap holds only if the body is the process's first oneDNN work (a stage's command is its
    own process): oneDNN fixes its kernel set once per process.
    """
    previous_threads = torch.get_num_threads()
    previous_isa = os.environ.get(_ONEDNN_ISA)
    os.environ.setdefault(_ONEDNN_ISA, PINNED_ISA)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous_threads)
        if previous_isa is None:
            os.environ.pop(_ONEDNN_ISA, None)
