"""A tiny damaged dataset built once per session with the real generator and damage code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Small enough to build in a few seconds, large enough for three splits and two kinds, one
# of which (scratch) must mark every frame and one of which (blotch) may leave frames empty.
TINY_SOURCES = dict(clips=3, frames=6, width=48, height=32, seed=0, fps="24")
TINY_KINDS = ("scratch", "blotch")


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory) -> Path:
    from seedvr.data.synth import generate_source_clips

    out = tmp_path_factory.mktemp("sources") / "data"
    generate_source_clips(out, **TINY_SOURCES)
    return out


@pytest.fixture(scope="session")
def tiny_dataset(tiny_sources, tmp_path_factory) -> Path:
    from seedvr.data.build import build_damaged_dataset

    out = tmp_path_factory.mktemp("damaged") / "dataset"
    build_damaged_dataset(tiny_sources, out, seed=1, kinds=TINY_KINDS, mask_ratio=(0.02, 0.2))
    return out


@pytest.fixture()
def dataset_copy(tiny_dataset, tmp_path) -> Path:
    """A private copy a test may break without touching the session's dataset."""
    return Path(shutil.copytree(tiny_dataset, tmp_path / "dataset"))


@pytest.fixture(scope="session")
def tiny_source_params() -> dict:
    """The ``params.data`` values the session's source clips were generated with."""
    return dict(TINY_SOURCES)
