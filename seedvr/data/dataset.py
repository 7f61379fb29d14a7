"""Reading the damaged dataset back: one clip (clean, damaged, mask) per manifest row.

A map-style dataset (``len`` + indexing, all PyTorch's ``DataLoader`` needs) that returns
numpy arrays in the project's contracts, so evaluation can use it without torch and
training can wrap it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from seedvr.data.manifest import MANIFEST_FILE, SPLITS, read_manifest
from seedvr.errors import SeedVRError


def load_damaged_clip(row: dict[str, Any] | pd.Series, root: str | Path) -> dict[str, Any]:
    """Read one manifest row's files (paths relative to ``root``) and check they agree.

    Returns ``{"clip_id", "split", "damage_kinds", "fps", "clean", "damaged", "mask"}``
    with ``clean``/``damaged`` ``uint8 [T, H, W, 3]`` and ``mask`` ``bool [T, H, W]``.
    """
    from seedvr.io import read_mask, read_video

    root = Path(root)
    clean = read_video(root / row["clean_path"])
    damaged = read_video(root / row["damaged_path"])
    mask = read_mask(root / row["mask_path"])
    expected = (int(row["frames"]), int(row["height"]), int(row["width"]))
    for name, shape in (("clean", clean.shape[:3]), ("damaged", damaged.shape[:3]), ("mask", mask.shape)):
        if tuple(shape) != expected:
            raise SeedVRError(
                f"{row['clip_id']}: {name} clip is {'x'.join(map(str, shape))} (TxHxW) "
                f"but the manifest says {'x'.join(map(str, expected))}"
            )
    return {
        "clip_id": str(row["clip_id"]),
        "split": str(row["split"]),
        "damage_kinds": str(row["damage_kinds"]),
        "fps": str(row["fps"]),
        "clean": clean,
        "damaged": damaged,
        "mask": mask,
    }


class ManifestClipDataset:
    """The clips of a damaged dataset (optionally one split), read from disk on access."""

    def __init__(self, manifest: str | Path, split: str | None = None) -> None:
        manifest = Path(manifest)
        self.manifest_path = manifest / MANIFEST_FILE if manifest.is_dir() else manifest
        if split is not None and split not in SPLITS:
            raise SeedVRError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        table = read_manifest(self.manifest_path)
        self.rows = table[table["split"] == split].reset_index(drop=True) if split else table
        self.root = self.manifest_path.parent

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"clip index {index} out of range for {len(self)} clips")
        return load_damaged_clip(self.rows.iloc[index], self.root)
