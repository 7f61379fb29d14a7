"""Small inboxes for flow tests, and fingerprints that prove what changed on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from seedvr.io import write_video

FRAMES, SIZE = 6, 32


def clip_frames(seed: int) -> np.ndarray:
    """Random frames: any pixel changed outside the hole would show."""
    return np.random.default_rng(seed).integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)


def clip_hole() -> np.ndarray:
    hole = np.zeros((SIZE, SIZE), dtype=bool)
    hole[10:20, 6:18] = True
    return hole


def build_inbox(inbox: Path, good: tuple[str, ...], corrupt: tuple[str, ...]) -> Path:
    """``NAME.mkv`` clips (FFV1, 6 frames of 32x32) with ``NAME.mask.png``; corrupt inputs
    are text files named ``NAME.mp4`` with a valid mask next to them."""
    inbox.mkdir(parents=True, exist_ok=True)
    mask_pixels = clip_hole().astype(np.uint8) * 255
    for seed, name in enumerate(good):
        write_video(inbox / f"{name}.mkv", clip_frames(seed), fps=24)
        cv2.imwrite(str(inbox / f"{name}.mask.png"), mask_pixels)
    for name in corrupt:
        (inbox / f"{name}.mp4").write_text("this is not a video\n")
        cv2.imwrite(str(inbox / f"{name}.mask.png"), mask_pixels)
    return inbox


def folder_fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``: proves inputs were neither changed nor moved."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def file_times(folder: Path) -> dict[str, int]:
    """Modification times of the files directly in ``folder``."""
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir() if path.is_file()}


def hidden_leftovers(folder: Path) -> list[str]:
    """Hidden entries other than the ledger: temporaries a failed write would leave."""
    return sorted(path.name for path in folder.rglob(".*") if path.name != ".ledger.jsonl")
