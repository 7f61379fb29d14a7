"""Logos and watermarks: one static shape burnt into every frame.

Either a word in a broadcast-style font or a translucent box with a word inside, sitting
in a corner. The mask does not move, which is what makes logo removal its own problem:
the pixels behind it are never seen in this clip.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.drawing import LINE, stamp_static

LOGO_WORDS = ("TV", "HD", "LIVE", "NEWS", "REC", "CH4", "SPORT", "1998", "DEMO", "SAMPLE")
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX)


@cache
def _reference_size(word: str, font: int) -> tuple[int, int, int]:
    """``(width, height, baseline)`` of ``word`` at scale 1, thickness 1.

    Cached because ``cv2.getTextSize`` is slow (about a millisecond per call in OpenCV 5),
    while text geometry scales linearly, so one measurement per word and font suffices.
    """
    (width, height), baseline = cv2.getTextSize(word, font, 1.0, 1)
    return width, height, baseline


def _text_ink(word: str, font: int, scale: float, thickness: int) -> np.ndarray:
    """The word rendered tightly (``uint8`` 0/255), to measure and to place it."""
    width, height, baseline = _reference_size(word, font)
    pad = thickness + 2
    ink = np.zeros((math.ceil((height + baseline) * scale) + 2 * pad, math.ceil(width * scale) + 2 * pad), np.uint8)
    cv2.putText(ink, word, (pad, pad + math.ceil(height * scale)), font, scale, 255, thickness, LINE)
    rows, cols = np.nonzero(ink)
    if rows.size == 0:  # too small to leave any ink: a single dot
        return np.full((1, 1), 255, np.uint8)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _corner_origin(rng: np.random.Generator, shape_hw: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[int, int]:
    """Top-left (row, col) of a box where broadcasters put logos: a corner or the middle of
    the top or bottom edge, with a small margin when it fits."""
    (box_h, box_w), (height, width) = shape_hw, frame_hw
    margin_y = min(round(0.04 * height), max(height - box_h, 0) // 2)
    margin_x = min(round(0.04 * width), max(width - box_w, 0) // 2)
    top = margin_y if rng.random() < 0.5 else height - box_h - margin_y
    left = (margin_x, (width - box_w) // 2, width - box_w - margin_x)[int(rng.choice(3, p=(0.4, 0.2, 0.4)))]
    return max(top, 0), max(left, 0)


class LogoDamage(DamageKind):
    name = "logo"
    style = PaintStyle(opacity=(0.55, 0.85), grain=6.0, colourful=False, edge_blur=3)
    allows_empty_frames = False

    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        frames, height, width = canvas.shape
        area = max(coverage * height * width, 1.0)  # static: the request is per frame
        logo = np.zeros((height, width), np.uint8)
        word = str(rng.choice(LOGO_WORDS))
        font = int(rng.choice(_FONTS))
        drawn_as_text = area < 0.05 * height * width and rng.random() < 0.6 and self._draw_text(logo, rng, word, font, area)
        if not drawn_as_text:
            self._draw_box(logo, rng, word, font, area)
        stamp_static(canvas, logo)
        return 1

    @staticmethod
    def _draw_text(logo: np.ndarray, rng: np.random.Generator, word: str, font: int, area: float) -> bool:
        """A bare word sized so its ink covers ``area``; False when it would not fit."""
        height, width = logo.shape
        reference = _text_ink(word, font, 1.0, 2)
        scale = math.sqrt(area / max(np.count_nonzero(reference), 1))
        thickness = max(1, int(round(2 * scale)))
        if scale < 0.25:  # too small to be legible text: a box is the honest shape
            return False
        ink = _text_ink(word, font, scale, thickness)
        if ink.shape[0] > height or ink.shape[1] > width:
            return False
        top, left = _corner_origin(rng, ink.shape, (height, width))
        region = logo[top : top + ink.shape[0], left : left + ink.shape[1]]
        region[ink > 0] = np.uint8(rng.integers(215, 251))
        return True

    @staticmethod
    def _draw_box(logo: np.ndarray, rng: np.random.Generator, word: str, font: int, area: float) -> None:
        """A translucent dark box of ``area`` pixels with a bright word inside when it fits."""
        height, width = logo.shape
        aspect = rng.uniform(1.5, 4.0)
        box_w = min(max(1, round(math.sqrt(area * aspect))), width)
        box_h = min(max(1, round(area / box_w)), height)
        if box_h == height:  # the height was clipped: widen to keep the requested area
            box_w = min(max(1, round(area / box_h)), width)
        top, left = _corner_origin(rng, (box_h, box_w), (height, width))
        box = logo[top : top + box_h, left : left + box_w]
        box[:] = np.uint8(rng.integers(25, 91))
        if box_h >= 6 and box_w >= 10:
            scale = 0.6 * box_h / max(_reference_size(word, font)[1], 1)
            thickness = max(1, int(round(scale)))
            ink = _text_ink(word, font, scale, thickness)
            if ink.shape[0] <= box_h and ink.shape[1] <= box_w:
                row = (box_h - ink.shape[0]) // 2
                col = (box_w - ink.shape[1]) // 2
                box[row : row + ink.shape[0], col : col + ink.shape[1]][ink > 0] = np.uint8(rng.integers(215, 251))
