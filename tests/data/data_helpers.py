"""Sizes, seeds and helpers shared by the data tests (a plain module: conftest is not importable)."""

from __future__ import annotations

from pathlib import Path

from seedvr.data.synth import generate_source_clips

CLIPS, FRAMES, WIDTH, HEIGHT = 6, 8, 64, 48
SYNTH_SEED, DAMAGE_SEED = 3, 5


def synth(folder: Path, seed: int = SYNTH_SEED) -> Path:
    generate_source_clips(folder, clips=CLIPS, frames=FRAMES, width=WIDTH, height=HEIGHT, seed=seed)
    return folder


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, to compare two outputs byte for byte."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}
