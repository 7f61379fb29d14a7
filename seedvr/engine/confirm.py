"""Blind mode's check: a detection stays in the repair region only where repairing it matters.

The detector flags picture too: people walking, foliage, a pole that looks like a scratch. A
repair inside such a region is wasted at best; worse, a false detection touching real damage
widens its hole, and the motion completed across a wide hole is poorer than across the damage
alone. So the detected region is repaired once by ``propagate`` (the motion-following method,
also the model's starting guess), and each detected pixel is kept only where that repair
changed it by more than a tolerance (:func:`~seedvr.ops.damage_regions.confirmed_region`). Real
damage (grey fill, paint, dust) differs from the picture the frames around it show; a pixel the
repair leaves nearly unchanged agrees with them. Every detection is repaired with a one-pixel
rim, kept where the repair changes it by a lot: the detector often stops a pixel short of the
damage's edge (a line's, a blotch's soft one). The lines and specks detected in the frames
just before and after are repaired too, never kept for it: a persistent scratch whose detection
has a gap in one frame would otherwise be copied back from that gap into the frames beside
(:func:`~seedvr.ops.damage_regions.confirming_region`). The final repair then runs inside the
confirmed region, with the dropped pixels as known picture around the damage.

Streaming: the region (detections, rims and the neighbours' lines, the mask read one chunk
ahead) is written as a temporary mask, the confirming
repair is an ordinary streamed :func:`~seedvr.engine.repair.repair_video` into a lossless
temporary video beside the mask, then input, that repair and the detected mask are read
together a chunk at a time; memory stays that of one repair window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seedvr.engine.repair import repair_video
from seedvr.engine.streaming import READ_FRAMES
from seedvr.errors import SeedVRError
from seedvr.io import MaskWriter, iter_mask_chunks, iter_video_chunks, probe
from seedvr.io.atomic import PendingOutput
from seedvr.ops.damage_regions import confirmed_region, confirming_region, detection_rims

#: The method whose repair confirms a detection: it follows the motion, needs no model, and is
#: what the model starts from.
CONFIRMING_METHOD = "propagate"


def scratch_beside(mask_path: Path, tag: str) -> PendingOutput:
    """A lossless ``.mkv`` under a temporary name beside ``mask_path`` (a file or a folder), for
    an intermediate video of blind mode: the caller discards it, on success too."""
    stem = mask_path.stem if mask_path.suffix else mask_path.name
    return PendingOutput(mask_path.with_name(f"{stem}.{tag}.mkv"))


def check_confirm_tolerance(tolerance: int | None) -> None:
    """``None`` (no confirmation) or a whole number of grey levels in [0, 254]."""
    if tolerance is None:
        return
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or not 0 <= tolerance <= 254:
        raise SeedVRError(f"--confirm-tolerance must be a whole number of grey levels in [0, 254], got {tolerance!r}")


def _with_neighbours(chunks: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray | None, np.ndarray, np.ndarray | None]]:
    """Each chunk of masks with the frame just before it and the one just after it (``None``
    at the clip's ends), reading one chunk ahead."""
    before, current = None, None
    for chunk in chunks:
        if current is not None:
            yield before, current, chunk[0]
            before = current[-1]
        current = chunk
    if current is not None:
        yield before, current, None


def confirm_mask_video(
    input_path: str | Path, detected_mask: str | Path, output_mask: str | Path, tolerance: int, **repair_options
) -> dict:
    """Write to ``output_mask`` the pixels of ``detected_mask`` (and of its detections'
    rims) that ``propagate``, repairing ``input_path`` inside them, changes by more than
    ``tolerance`` grey levels (:func:`~seedvr.ops.damage_regions.confirmed_region`).

    ``repair_options`` go to the confirming :func:`repair_video` (chunk, overlap, max_side,
    crop, tile_pixels...). Returns the detected and the confirmed share of the pixels.
    """
    input_path, detected_mask, output_mask = Path(input_path), Path(detected_mask), Path(output_mask)
    check_confirm_tolerance(tolerance)
    info = probe(input_path)
    # What the confirming repair repairs (the detections and their rims) and the lossless
    # video it writes, both read back chunk by chunk; never kept.
    region, confirming = scratch_beside(output_mask, "confirming-region"), scratch_beside(output_mask, "confirming")
    detected = confirmed = 0
    try:
        with MaskWriter(region.temp, info.fps, info.width, info.height) as writer:
            for before, masks, after in _with_neighbours(iter_mask_chunks(detected_mask, READ_FRAMES, info)):
                writer.write(confirming_region(masks, before, after))
        repair_video(input_path, region.temp, confirming.temp, method=CONFIRMING_METHOD, allow_empty_mask=True, **repair_options)
        chunks = zip(
            iter_video_chunks(input_path, READ_FRAMES),
            iter_video_chunks(confirming.temp, READ_FRAMES),
            iter_mask_chunks(detected_mask, READ_FRAMES, info),
            strict=True,
        )
        with MaskWriter(output_mask, info.fps, info.width, info.height) as writer:
            for frames, repaired, masks in chunks:
                kept = confirmed_region(masks, detection_rims(masks), frames, repaired, tolerance)
                writer.write(kept)
                detected += int(masks.sum())
                confirmed += int(kept.sum())
    finally:
        confirming.discard()
        region.discard()
    pixels = max(1, info.frames * info.width * info.height)
    return {"tolerance": tolerance, "detected_fraction": detected / pixels, "confirmed_fraction": confirmed / pixels}
