"""A repair function that records what it is given: shared by the crop and tile tests."""

from __future__ import annotations

import numpy as np

from seedvr.baselines.classical import telea_repair


class Spy:
    """A repair function that records the shapes it is called with (Telea underneath)."""

    def __init__(self, repair=telea_repair):
        self.repair, self.shapes = repair, []

    def __call__(self, frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        self.shapes.append(frames.shape)
        return self.repair(frames, masks)
