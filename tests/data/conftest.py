"""Tiny source clips and damaged datasets, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import DAMAGE_SEED, synth

from seedvr.data.build import build_damaged_dataset


@pytest.fixture(scope="session")
def source_dir(tmp_path_factory) -> Path:
    return synth(tmp_path_factory.mktemp("sources") / "data")


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory, source_dir) -> Path:
    """Every kind on every source clip (6 sources x 6 kinds)."""
    out = tmp_path_factory.mktemp("damaged") / "dataset"
    build_damaged_dataset(source_dir, out, seed=DAMAGE_SEED)
    return out
