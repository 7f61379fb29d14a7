"""Any resolution in bounded memory: a window too large for one call is repaired in tiles.

The model's memory grows with the pixels of a window (frames x height x width): about 0.6 kB
a pixel-frame on a CPU in fp32 (peak RSS of a 32-frame window of 432x240: 2.5 GB, 2.1 GB of
it the repair), so one 32-frame window of 3840x2160 would need about 160 GB. Here a window
(a whole frame or one crop of :mod:`seedvr.engine.crops`) whose area exceeds
``tile_pixels`` is cut into the fewest overlapping tiles of at most that area, and the method
runs on one tile at a time, every frame of the window (temporal context is kept):

* tiles overlap by ``overlap`` pixels, their sides a multiple of ``align`` (whole patches at
  every scale of the model, as for crops), spread evenly over the area;
* each hole pixel is taken from exactly one tile, the one whose *core* holds it: cores cut
  every overlap in its middle, so a taken pixel has at least ``overlap / 2`` pixels of
  context on every side its tile has a neighbour (the context a crop margin gives). Cores
  are a partition rather than a cross-fade: a blend would need a float copy of the window,
  at 4K larger than the repair of a tile;
* the method's result is copied back inside the mask only, so outside it the output is the
  input's bytes, and a tile whose core has no hole pixel is not repaired at all.

A window that fits in one tile is handed to the method unchanged: with the default
``tile_pixels`` (131072, params.yaml ``repair.tile_pixels``) a 432x240 frame is repaired
exactly as without tiling; an 854x480 frame becomes four tiles of 272x464.

Nothing here knows about the model; the function is pure (no state, no randomness).
"""

from __future__ import annotations

import numpy as np

from seedvr.config import REPAIR_DEFAULTS
from seedvr.engine.crops import DEFAULT_CROP_ALIGN, DEFAULT_CROP_MARGIN, Crop
from seedvr.engine.streaming import ChunkRepair, checked_result
from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video_and_masks

#: Largest window area (pixels) a method is given at once: params.yaml ``repair.tile_pixels``.
DEFAULT_TILE_PIXELS = REPAIR_DEFAULTS.tile_pixels

#: Tiles overlap by two crop margins, so each taken pixel keeps a crop margin of context.
DEFAULT_TILE_OVERLAP = 2 * DEFAULT_CROP_MARGIN


def check_tile_options(tile_pixels: int, overlap: int, align: int = DEFAULT_CROP_ALIGN) -> None:
    """A tile must have room for its overlap on both sides and more: one clear line otherwise."""
    for name, value, least in (("--tile-pixels", tile_pixels, 1), ("tile overlap", overlap, 0), ("tile alignment", align, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise SeedVRError(f"{name} must be an integer of at least {least}, got {value!r}")
    smallest_side = 2 * overlap + 2 * align
    if tile_pixels < smallest_side**2:
        raise SeedVRError(
            f"--tile-pixels must be at least {smallest_side**2} ({smallest_side}x{smallest_side}: "
            f"room for a {overlap}-pixel overlap on each side), got {tile_pixels}"
        )


def _span(length: int, count: int, overlap: int, align: int) -> int:
    """Side of ``count`` tiles covering ``length`` with ``overlap`` between neighbours."""
    if count == 1:
        return length
    side = -(-(length + (count - 1) * overlap) // count)
    return min(length, -(-side // align) * align)


def _starts(length: int, count: int, side: int) -> list[int]:
    if count == 1:
        return [0]
    return [round(index * (length - side) / (count - 1)) for index in range(count)]


def _cores(starts: list[int], side: int, length: int) -> list[tuple[int, int]]:
    """Per tile, the part of the axis it is responsible for: overlaps cut in their middle."""
    cuts = [0] + [(starts[i + 1] + starts[i] + side) // 2 for i in range(len(starts) - 1)] + [length]
    return list(zip(cuts[:-1], cuts[1:]))


def plan_tiles(
    height: int,
    width: int,
    tile_pixels: int = DEFAULT_TILE_PIXELS,
    overlap: int = DEFAULT_TILE_OVERLAP,
    align: int = DEFAULT_CROP_ALIGN,
) -> list[tuple[Crop, Crop]]:
    """``(tile, core)`` pairs covering a ``height x width`` area, each tile at most ``tile_pixels``.

    The fewest tiles that fit (then the squarest), overlapping by at least ``overlap``; the
    cores partition the area. One pair ``(whole, whole)`` when the area fits in one tile.
    """
    check_tile_options(tile_pixels, overlap, align)
    if height < 1 or width < 1:
        raise SeedVRError(f"cannot tile an empty area {height}x{width}")
    best = None
    for rows in range(1, -(-height // align) + 1):
        tile_h = _span(height, rows, overlap, align)
        if rows > 1 and tile_h <= overlap:
            break
        for cols in range(1, -(-width // align) + 1):
            tile_w = _span(width, cols, overlap, align)
            if cols > 1 and tile_w <= overlap:
                break
            if tile_h * tile_w <= tile_pixels:
                candidate = (rows * cols, abs(tile_h - tile_w), rows, cols, tile_h, tile_w)
                best = candidate if best is None or candidate < best else best
                break
    if best is None:
        raise SeedVRError(f"a {width}x{height} window cannot be cut into tiles of at most {tile_pixels} pixels")
    _, _, rows, cols, tile_h, tile_w = best
    tops, lefts = _starts(height, rows, tile_h), _starts(width, cols, tile_w)
    row_cores, col_cores = _cores(tops, tile_h, height), _cores(lefts, tile_w, width)
    return [
        (Crop(top, left, tile_h, tile_w), Crop(core_top, core_left, core_bottom - core_top, core_right - core_left))
        for top, (core_top, core_bottom) in zip(tops, row_cores)
        for left, (core_left, core_right) in zip(lefts, col_cores)
    ]


def repair_in_tiles(
    repair: ChunkRepair,
    frames: np.ndarray,
    masks: np.ndarray,
    tile_pixels: int = DEFAULT_TILE_PIXELS,
    overlap: int = DEFAULT_TILE_OVERLAP,
    align: int = DEFAULT_CROP_ALIGN,
) -> np.ndarray:
    """``repair(frames, masks)`` one tile of :func:`plan_tiles` at a time, pasted back inside
    the mask of each tile's core; the input's bytes everywhere else. A window that fits in one
    tile is passed to ``repair`` as it is."""
    masks = check_video_and_masks(frames, masks)
    plan = plan_tiles(*masks.shape[1:], tile_pixels, overlap, align)
    if len(plan) == 1:
        return repair(frames, masks)
    repaired = frames.copy()
    for tile, core in plan:
        core_rows, core_cols = core.slices
        core_masks = masks[:, core_rows, core_cols]
        if not core_masks.any():
            continue
        rows, cols = tile.slices
        tile_frames = np.ascontiguousarray(frames[:, rows, cols])
        result = checked_result(repair(tile_frames, np.ascontiguousarray(masks[:, rows, cols])), tile_frames)
        inner_rows = slice(core.top - tile.top, core.bottom - tile.top)
        inner_cols = slice(core.left - tile.left, core.right - tile.left)
        np.copyto(repaired[:, core_rows, core_cols], result[:, inner_rows, inner_cols], where=core_masks[..., None])
    return repaired


def tiled(
    repair: ChunkRepair,
    tile_pixels: int = DEFAULT_TILE_PIXELS,
    overlap: int = DEFAULT_TILE_OVERLAP,
    align: int = DEFAULT_CROP_ALIGN,
) -> ChunkRepair:
    """``repair`` wrapped to run in tiles (:func:`repair_in_tiles`) when a window is too large."""
    check_tile_options(tile_pixels, overlap, align)

    def repair_tiled(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        return repair_in_tiles(repair, frames, masks, tile_pixels, overlap, align)

    return repair_tiled
