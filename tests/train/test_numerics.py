"""The pinned CPU numerics of a hashed training stage: threads and oneDNN's kernel set inside,
everything as it was outside (a user's own cap kept)."""

from __future__ import annotations

import os

import pytest
import torch

from seedvr.train.numerics import PINNED_ISA, STAGE_THREADS, pinned_cpu_numerics

ISA = "ONEDNN_MAX_CPU_ISA"


def test_the_body_runs_pinned_and_the_process_gets_its_settings_back(monkeypatch):
    monkeypatch.delenv(ISA, raising=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pinned_cpu_numerics():
            assert torch.get_num_threads() == STAGE_THREADS
            assert os.environ[ISA] == PINNED_ISA
        assert torch.get_num_threads() == 1
        assert ISA not in os.environ
    finally:
        torch.set_num_threads(previous)


def test_a_cap_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv(ISA, "AVX512_CORE")
    with pinned_cpu_numerics(threads=1):
        assert os.environ[ISA] == "AVX512_CORE"
    assert os.environ[ISA] == "AVX512_CORE"


def test_it_restores_the_settings_when_the_body_fails(monkeypatch):
    monkeypatch.delenv(ISA, raising=False)
    previous = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="stage failed"), pinned_cpu_numerics(threads=previous + 1):
        raise RuntimeError("stage failed")
    assert torch.get_num_threads() == previous and ISA not in os.environ
