"""Small real-looking clips for tests (importable from any test folder: tests/ is on sys.path)."""

from __future__ import annotations

import numpy as np


def make_panning_clip(frames: int = 8, size: int = 64, step: int = 3, hole: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A camera pan over a real photograph with a static square hole in the middle."""
    import cv2
    from skimage import data

    photo = data.astronaut()
    crop = 256
    clip = np.stack(
        [cv2.resize(photo[60 : 60 + crop, 40 + step * 4 * t : 40 + step * 4 * t + crop], (size, size), interpolation=cv2.INTER_AREA) for t in range(frames)]
    )
    masks = np.zeros(clip.shape[:3], dtype=bool)
    start = (size - hole) // 2
    masks[:, start : start + hole, start : start + hole] = True
    return clip, masks
