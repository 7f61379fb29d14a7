"""Repair only where the damage is: crops around a window's holes, pasted back inside the mask.

Damage covers 1-25 % of a frame, yet a repair method run on whole frames pays for every pixel
(flow, the model's every stage) and the compositing then throws 75-99 % of it away. For one
window (all its frames, so temporal context stays) :func:`plan_crops` finds rectangles that
hold every hole pixel of the window plus ``margin`` pixels of context around it:

1. the union of the window's masks over time (a hole anywhere in the window must be in the
   crop in every frame, so the frames the hole moves over are context for each other);
2. that union grown by ``margin`` (a square dilation, i.e. each hole's bounding box grown by
   ``margin`` on every side): holes closer than ``2 * margin`` fall into one region, far-apart
   holes stay apart, so two damaged corners give two small crops, not one frame-sized box;
3. the bounding box of each grown region, clipped to the frame, its size rounded up to a
   multiple of ``align`` (grown around its centre, shifted back inside the frame; a side
   that would not fit is the frame's whole side);
4. boxes that overlap after step 3 are merged (and re-aligned) until none do, so every hole
   pixel lies in exactly one crop and always with its full context.

:func:`repair_in_crops` runs the method on each crop (every frame of the window cut to the
rectangle) and copies back the repaired pixels *inside the mask only*: outside the mask the
output is the input's bytes (the lossless invariant), frames without damage in a crop come
back byte-identical, and a window without damage is returned without calling the method.
When the crops together cover more than :data:`WHOLE_FRAME_AREA` of the frame, the method
runs on the whole frame instead: cutting and pasting would save little work, and a crop
loses context at its borders that the whole frame has.

Nothing here knows about the model; the function is pure (no state, no randomness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seedvr.config import REPAIR_DEFAULTS
from seedvr.engine.streaming import ChunkRepair, checked_result, keep_outside_mask
from seedvr.errors import SeedVRError
from seedvr.ops.regions import WHOLE_FRAME_AREA, Crop, plan_regions
from seedvr.video_contract import check_video_and_masks

#: Context kept around each hole, in pixels of the frames the method sees. It must cover what
#: each method reads around a hole pixel:
#:
#: * ``telea`` / ``ns``: their radius (3 px) plus a pixel for gradients: 4 px is exact;
#: * ``propagate`` (and the model, which starts from it): Farneback's 15-px window and 5-px
#:   polynomial expansion need texture around the hole, the flow completion discards the flow
#:   9 px into the surroundings and interpolates from what lies beyond, and known pixels are
#:   fetched from where the motion uncovers them (a few pixels per frame at 432x240);
#: * the model: its temporal encoder and coarse pass work at 1/4 scale, where 32 px is 8 px
#:   (two 4-px patches) of surroundings on each side.
#:
#: ``propagate`` in a crop is not the same computation as on the whole frame (Farneback on
#: the crop at its own scale, not the frame's reduced one), so its results move a little either
#: way. Measured on the real-footage benchmark (``benchmarks/bench_quality.py --methods
#: propagate --crop-margin M``, 12 cases of 48 frames, mean PSNR in the mask against whole
#: frames): 16 px -0.14 dB, 32 px -0.09 dB, 64 px -0.11 dB (per cropped case from -1.7 to
#: +0.4 dB at every margin: which hole pixels propagation fills flips, a lottery more than a
#: trend); with 32-frame clips 32 px gives -0.02 dB. 32 px is the best of these and keeps the
#: crops small; ``telea`` and ``ns`` are unchanged (exact from 4 px).
DEFAULT_CROP_MARGIN = REPAIR_DEFAULTS.crop_margin  # params.yaml repair.crop_margin

#: Crop sides are rounded up to a multiple of this: the model's coarse pass runs at 1/4 scale
#: with 4x4-pixel patches, so a side divisible by 16 gives whole patches at every scale (no
#: replicate-padded partial patch at a crop border). The methods accept any size; this only
#: avoids wasted padding.
DEFAULT_CROP_ALIGN = 16

#: Cropping is opt-in (``--crop``): a crop changes which hole pixels propagation fills (on the
#: real-footage benchmark's three cropped cases -0.04 to +0.11 dB with today's fusion; with an
#: earlier one a case lost 1.4-1.7 dB), and the evaluation behind the promotion gates runs on
#: whole frames, so batch repair ships what the gates measured. Measuring the flow in a crop at
#: the frame's own scale instead of the crop's does not bring it closer (see "Flow in crops at
#: the frame's scale" in docs/findings/real-footage.md).
CROP_BY_DEFAULT = False


MAX_CROP_MARGIN = 1024


@dataclass
class CropStats:
    """What cropping did over a run (reported by ``repair_video``): windows seen, how many
    ran on the whole frame, how many crops, and the share of the frame area they covered."""

    margin: int = DEFAULT_CROP_MARGIN
    align: int = DEFAULT_CROP_ALIGN
    windows: int = 0
    whole_frame_windows: int = 0
    crops: int = 0
    damaged_windows: int = 0
    area_fraction_sum: float = 0.0  # a sum, not a list: memory stays flat whatever the length

    def to_dict(self) -> dict:
        mean = self.area_fraction_sum / self.damaged_windows if self.damaged_windows else None
        return {
            "enabled": True,
            "margin": self.margin,
            "align": self.align,
            "windows": self.windows,
            "damaged_windows": self.damaged_windows,
            "whole_frame_windows": self.whole_frame_windows,
            "crops": self.crops,
            "mean_area_fraction": None if mean is None else round(mean, 4),
        }


def check_crop_options(margin: int, align: int) -> None:
    """A bad margin or alignment is a user error (``--crop-margin``), said in one line."""
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or not 0 <= margin <= MAX_CROP_MARGIN:
        raise SeedVRError(f"--crop-margin must be between 0 and {MAX_CROP_MARGIN} pixels, got {margin!r}")
    if isinstance(align, bool) or not isinstance(align, (int, np.integer)) or align < 1:
        raise SeedVRError(f"crop alignment must be at least 1 pixel, got {align!r}")


def plan_crops(masks: np.ndarray, margin: int = DEFAULT_CROP_MARGIN, align: int = DEFAULT_CROP_ALIGN) -> list[Crop]:
    """Disjoint rectangles holding every hole pixel of the window ``masks [T, H, W]`` with at
    least ``margin`` pixels of context (less only at the frame's edges), sides a multiple of
    ``align`` or the frame's whole side. Empty when there is no damage. See the module doc."""
    check_crop_options(margin, align)
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3:
        raise SeedVRError(f"masks must be [T, H, W], got shape {masks.shape}")
    return plan_regions(masks.any(axis=0), margin, align)


def repair_in_crops(
    repair: ChunkRepair,
    frames: np.ndarray,
    masks: np.ndarray,
    margin: int = DEFAULT_CROP_MARGIN,
    align: int = DEFAULT_CROP_ALIGN,
    whole_frame_area: float = WHOLE_FRAME_AREA,
    stats: CropStats | None = None,
) -> np.ndarray:
    """``repair(frames, masks)`` run on the crops of :func:`plan_crops` and pasted back inside
    the mask; the input's bytes everywhere else. ``frames uint8 [T, H, W, 3]``, ``masks bool
    [T, H, W]``. A window without damage is returned (copied) without calling ``repair``;
    crops covering more than ``whole_frame_area`` of the frame run as one whole frame.
    ``stats``, when given, counts what was done."""
    masks = check_video_and_masks(frames, masks)
    crops = plan_crops(masks, margin, align)
    if stats is not None:
        stats.windows += 1
    if not crops:
        return frames.copy()
    height, width = masks.shape[1:]
    whole = Crop(0, 0, height, width)
    covered = sum(crop.area for crop in crops) / float(whole.area)
    if covered > whole_frame_area:
        crops, covered = [whole], 1.0
    if stats is not None:
        stats.crops += len(crops)
        stats.whole_frame_windows += int(crops == [whole])
        stats.damaged_windows += 1
        stats.area_fraction_sum += covered
    if crops == [whole]:
        return keep_outside_mask(checked_result(repair(frames, masks), frames), frames, masks)
    repaired = frames.copy()
    for crop in crops:
        rows, cols = crop.slices
        crop_frames = np.ascontiguousarray(frames[:, rows, cols])
        crop_masks = np.ascontiguousarray(masks[:, rows, cols])
        result = checked_result(repair(crop_frames, crop_masks), crop_frames)
        np.copyto(repaired[:, rows, cols], result, where=crop_masks[..., None])
    return repaired


def cropped(
    repair: ChunkRepair,
    margin: int = DEFAULT_CROP_MARGIN,
    align: int = DEFAULT_CROP_ALIGN,
    stats: CropStats | None = None,
) -> ChunkRepair:
    """``repair`` wrapped to run in crops (:func:`repair_in_crops`): apply it per window, i.e.
    wrap a method's repair function before streaming."""
    check_crop_options(margin, align)

    def repair_cropped(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        return repair_in_crops(repair, frames, masks, margin, align, stats=stats)

    return repair_cropped
