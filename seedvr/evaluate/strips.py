"""Sample strips: one PNG per clip showing what every method did, side by side.

Rows are a few frames of the clip; columns are ``damaged | mask | <each method> | truth``,
with the column names in a header band and the frame number left of each row. Small frames
are enlarged by an integer factor with nearest-neighbour sampling, so the pixels a method
produced are shown as they are, not smoothed by the enlargement; large frames are reduced.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from seedvr.evaluate.runner import StripSample

# Cells are scaled towards this width: wide enough for a readable label, small enough that
# a strip of six columns stays a few hundred kilobytes.
_CELL_TARGET_WIDTH = 192
_HEADER_HEIGHT = 28
_ROW_LABEL_WIDTH = 64
_GAP = 4
_BACKGROUND = (32, 32, 32)
_TEXT_COLOUR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _cell_size(height: int, width: int) -> tuple[int, int]:
    if width < _CELL_TARGET_WIDTH:
        factor = max(1, _CELL_TARGET_WIDTH // width)
        return height * factor, width * factor
    scale = _CELL_TARGET_WIDTH / width
    return max(1, round(height * scale)), _CELL_TARGET_WIDTH


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    enlarging = width >= image.shape[1]
    interpolation = cv2.INTER_NEAREST if enlarging else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _put_label(canvas: np.ndarray, text: str, left: int, top: int, width: int, height: int) -> None:
    """Draw ``text`` centred in a box, shrinking the font until it fits the box's width."""
    scale = 0.55
    while scale > 0.3:
        (text_width, text_height), _ = cv2.getTextSize(text, _FONT, scale, 1)
        if text_width <= width - 4:
            break
        scale -= 0.05
    (text_width, text_height), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    x = left + max(2, (width - text_width) // 2)
    y = top + (height + text_height) // 2
    cv2.putText(canvas, text, (x, y), _FONT, scale, _TEXT_COLOUR, 1, cv2.LINE_AA)


def strip_columns(sample: StripSample, methods: list[str]) -> list[tuple[str, np.ndarray]]:
    """``(label, frames uint8 [R, H, W, 3])`` for each column, in display order."""
    mask_rgb = np.repeat(sample.mask[..., None].astype(np.uint8) * 255, 3, axis=-1)
    columns = [("damaged", sample.damaged), ("mask", mask_rgb)]
    columns += [(name, sample.repaired[name]) for name in methods if name in sample.repaired]
    columns.append(("truth", sample.truth))
    return columns


def render_strip(sample: StripSample, methods: list[str]) -> np.ndarray:
    """The strip as an RGB ``uint8 [H, W, 3]`` image."""
    columns = strip_columns(sample, methods)
    rows = len(sample.frame_indices)
    cell_h, cell_w = _cell_size(*sample.truth.shape[1:3])
    height = _HEADER_HEIGHT + rows * (cell_h + _GAP)
    width = _ROW_LABEL_WIDTH + len(columns) * (cell_w + _GAP)
    canvas = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    for column, (label, frames) in enumerate(columns):
        left = _ROW_LABEL_WIDTH + column * (cell_w + _GAP)
        _put_label(canvas, label, left, 0, cell_w, _HEADER_HEIGHT)
        for row in range(rows):
            top = _HEADER_HEIGHT + row * (cell_h + _GAP)
            canvas[top : top + cell_h, left : left + cell_w] = _resize(frames[row], (cell_h, cell_w))
    for row, frame_index in enumerate(sample.frame_indices):
        top = _HEADER_HEIGHT + row * (cell_h + _GAP)
        _put_label(canvas, f"t={frame_index}", 0, top, _ROW_LABEL_WIDTH, cell_h)
    return canvas


def write_strips(samples: list[StripSample], methods: list[str], folder: Path) -> list[Path]:
    """Write ``<clip_id>.png`` for every sample into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in samples:
        path = folder / f"{sample.clip_id}.png"
        image = render_strip(sample, methods)
        if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write the sample strip {path}")
        paths.append(path)
    return paths
