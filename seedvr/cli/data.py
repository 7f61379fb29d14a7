"""``seedvr synth`` (procedural source clips) and ``seedvr damage`` (the damaged dataset)."""

from __future__ import annotations

from pathlib import Path

import typer

from seedvr.cli import app
from seedvr.cli._common import user_errors
from seedvr.config import DAMAGE_KINDS
from seedvr.errors import SeedVRError


def parse_size(text: str) -> tuple[int, int]:
    """``"96x64"`` -> ``(96, 64)`` as (width, height)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise SeedVRError(f"size must look like WIDTHxHEIGHT (e.g. 96x64), got {text!r}")
    return int(parts[0]), int(parts[1])


def parse_ratio_bounds(text: str) -> tuple[float, float]:
    """``"0.01:0.25"`` -> ``(0.01, 0.25)`` (range checks happen in the library)."""
    parts = text.split(":")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise SeedVRError(f"mask ratio must look like LOW:HIGH (e.g. 0.01:0.25), got {text!r}") from None
    return low, high


@app.command()
@user_errors
def synth(
    out: Path = typer.Option(Path("data"), "--out", help="Folder for clip_XXXX.mkv and sources.json."),
    clips: int = typer.Option(8, help="Number of clips."),
    frames: int = typer.Option(16, help="Frames per clip."),
    size: str = typer.Option("96x64", help="Frame size WIDTHxHEIGHT."),
    seed: int = typer.Option(0, help="Same seed, same bytes."),
    fps: str = typer.Option("24", help="Frame rate, e.g. 24, 25 or 30000/1001."),
) -> None:
    """Render procedural source clips: camera motion over real photos, moving sprites, light drift."""
    from seedvr.data.synth import generate_source_clips
    from seedvr.io import parse_fps

    width, height = parse_size(size)
    written = generate_source_clips(out, clips=clips, frames=frames, width=width, height=height, seed=seed, fps=parse_fps(fps))
    typer.echo(f"wrote {len(written)} clips of {frames} frames at {width}x{height} to {out}")


@app.command()
@user_errors
def damage(
    src: Path = typer.Argument(..., help="Folder of source clips (e.g. data/)."),
    out: Path = typer.Option(Path("work/damaged"), "--out", help="Dataset folder (replaced atomically)."),
    seed: int = typer.Option(1, help="Same seed, same bytes."),
    kinds: str = typer.Option(",".join(DAMAGE_KINDS), help="Comma-separated damage kinds, one variant per kind."),
    mask_ratio: str = typer.Option("0.01:0.25", "--mask-ratio", help="Bounds LOW:HIGH of each clip's mean damaged fraction."),
    val_fraction: float = typer.Option(0.2, help="Fraction of source clips for validation."),
    test_fraction: float = typer.Option(0.2, help="Fraction of source clips for testing."),
) -> None:
    """Damage every source clip once per kind; write clean/damaged/mask videos and manifest.csv."""
    from seedvr.data.build import build_damaged_dataset
    from seedvr.data.damage import check_kinds
    from seedvr.data.manifest import read_manifest

    manifest = build_damaged_dataset(
        src,
        out,
        seed=seed,
        kinds=check_kinds(kinds),
        mask_ratio=parse_ratio_bounds(mask_ratio),
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
    table = read_manifest(manifest)
    counts = ", ".join(f"{split} {count}" for split, count in table["split"].value_counts().sort_index().items())
    typer.echo(f"wrote {len(table)} damaged clips ({counts}) to {manifest}")
