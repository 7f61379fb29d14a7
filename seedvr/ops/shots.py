"""Scene cuts: where two consecutive frames belong to different shots.

Propagation carries pixels along the motion between neighbouring frames, and the damage
detector reads a frame against its neighbours; both take the frames beside as the same scene.
Across a cut in an edited film neither holds: the next shot's pixels would fill this shot's
holes, and every pixel of the frame beside a cut spikes against its neighbour as damage does
(the shipped detector flagged 15.8 % of such a frame of Megamind.avi). So a window is split
at its cuts and each shot is repaired or detected alone (:func:`shot_slices`).

The test reads the two frames alone, so every window of a stream splits where the whole clip
does. Both are median-filtered (scattered specks and thin lines out) and reduced to
:data:`CUT_SIZE` (area); they are a cut when, at every global shift within :data:`CUT_SHIFT`
reduced pixels (a pan is no cut), half their pixels differ by :data:`CUT_LEVEL` grey levels or
more in some channel and three quarters by :data:`CUT_FLOOR` or more. Damage, a person walking
by or a flash of foliage changes part of a frame; a cut changes nearly all of it. Measured on
every consecutive pair of the opencv sample videos: the four cuts of Megamind.avi at medians of
29-40 levels and lower quartiles of 12-18; every other pair at most 11 and 9 (box.mp4 turning
fast; tree.avi's foliage in wind 9 and 5). On `make run`'s damaged clips (96x64, blotches
covering up to 58 % of a frame) some pairs pass the median, none the quartile (at most 5).
"""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np

CUT_SIZE = (64, 36)
"""Width and height the two frames are compared at."""

CUT_SHIFT = 2
"""Largest global shift (reduced pixels, each axis) tried before two frames count as apart."""

CUT_LEVEL = 20.0
"""Median largest-channel difference (grey levels) from which two frames may be a cut."""

CUT_FLOOR = 10.0
"""Lower quartile of the same differences a cut must reach as well."""

DESPECKLE = 5
"""Median filter (px, full size) the frames go through before they are reduced."""


def _reduced(frame: np.ndarray) -> np.ndarray:
    # The median filter first: scattered specks and thin lines would otherwise be averaged into
    # every reduced pixel, and dense dust read as another picture.
    despeckled = cv2.medianBlur(np.ascontiguousarray(frame), DESPECKLE)
    return cv2.resize(despeckled, CUT_SIZE, interpolation=cv2.INTER_AREA).astype(np.int16)


def _apart(before: np.ndarray, after: np.ndarray, dy: int, dx: int) -> bool:
    height, width = before.shape[:2]
    first = before[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)]
    second = after[max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)]
    quartile, median = np.percentile(np.abs(first - second).max(axis=-1), (25, 50))
    return bool(median >= CUT_LEVEL and quartile >= CUT_FLOOR)


def _reduced_apart(first: np.ndarray, second: np.ndarray) -> bool:
    """The cut test on two frames already reduced by :func:`_reduced`."""
    if not _apart(first, second, 0, 0):
        return False  # most pairs: alike without a shift
    shifts = range(-CUT_SHIFT, CUT_SHIFT + 1)
    return all(_apart(first, second, dy, dx) for dy in shifts for dx in shifts)


def is_cut(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether ``after`` (``uint8 [H, W, 3]``) starts another shot than ``before``."""
    return _reduced_apart(_reduced(before), _reduced(after))


def shot_slices(frames: np.ndarray) -> list[slice]:
    """The shots of ``frames`` (``uint8 [T, H, W, 3]``) as slices in order: one for a clip without cuts."""
    # Each frame is reduced once, though it is the second of one pair and the first of the next.
    reduced = [_reduced(frame) for frame in frames]
    starts = [index + 1 for index, (first, second) in enumerate(pairwise(reduced)) if _reduced_apart(first, second)]
    return [slice(start, stop) for start, stop in pairwise([0, *starts, len(frames)])]
