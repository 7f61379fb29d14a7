"""From a damage probability map to the region to repair: each detection grown to its full extent.

A detector thresholded pixel by pixel finds the core of a blotch or a scratch and misses its
faint rim and the parts of a large blotch whose paint looks like picture: on the real-footage
benchmark's blind cases, 14-18 % of the damaged pixels fall under the 0.5 threshold, and each
one left unrepaired costs far more than a clean pixel repaired needlessly (a pixel of grey fill
is off by a third of the range; a propagated clean pixel by a few levels).

Two classical steps of segmentation recover most of them without letting new false alarms in:

- hysteresis (as Canny's edge linking): pixels above a low ``grow_threshold`` join the mask
  only when they touch a pixel above the decision threshold, so faint evidence extends a
  detection but never starts one;
- enclosed holes: background wholly surrounded by a detection (the inside of a blotch whose
  rim was found) is damage too, up to :data:`MAX_FILLED_HOLE_SHARE` of the frame, so a ring of
  false alarms around a large area never swallows it.

A large opaque blotch whose paint looks like picture in places is often found in pieces: the
gaps between them lie under any threshold, and they open the blotch's inside to the picture, so
no hole is enclosed. Compact detections (blotch-shaped, not lines) are closed first
(:func:`close_blotches`): pieces a few pixels apart are joined and the inside they bound is
filled as an enclosed hole.

The soft edge of a blotch, where its probability falls under any threshold, is left to the
check below (a one-pixel rim offered to it) and to blind mode's second look, which finds what is
left beside the repaired damage (:mod:`seedvr.engine.auto_mask`). Widening every blotch-thick
detection by a fixed rim, shipped before the second look, cost more than it found once that look
was there (measured 2026-12-06: no widening against 4 px, two looks, ``propagate``, PSNR inside the
true mask; the real-footage benchmark's four blind cases at 48 frames: megamind-film 30.76 -> 31.42
dB, vtest-scratch 27.05 -> 28.43, tree-dust 25.89 -> 26.00, megamind-blotch 33.11 -> 33.27; twelve
24-frame film clips 33.51 -> 33.59 (the whole frame 44.82 dB, the single look at 4 px 43.35),
single clips from -1.79 to +2.84; 1 px: 33.44, 2 px: 33.46): the margin widened the holes around the damage, and on people and
foliage read as blotches it was false detection.

Last, a check decides (:func:`confirmed_region`, used by :mod:`seedvr.engine.confirm`): a
detected pixel stays only where a repair along the motion changes it. Every detection is offered
to that repair with a one-pixel rim (:func:`detection_rims`): its edge is uncertain by a pixel,
and a rim pixel the repair changes by a lot (grey fill or paint, far from the picture) is damage.
That repair also masks the lines and specks detected in the frames beside
(:func:`confirming_region`), so a scratch is not copied back from a frame where its detection
has a gap.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Largest enclosed hole filled, as a share of the frame's area: the damage generators draw
#: blotches of radius up to 0.26 of the frame's shorter side (about 12 % of a 432x240 frame),
#: whose unfound inside is smaller still; a larger enclosed area is more likely picture.
MAX_FILLED_HOLE_SHARE = 0.1

#: A detection at least this thick (the radius of the largest disc inside it, px) is a blotch,
#: not a scratch line (1-3 px wide) or a speck of dust.
BLOTCH_RADIUS = 3.0
#: A detection is compact (blotch-shaped) when its area is at most this many times the disc of
#: its thickness radius: a disc is 1, a 3:1 ellipse 3; a 6 px scratch down a 240 px frame about
#: 50, and a line of two scratches joined by closing wider still. Only compact detections are
#: closed: closing lines would join neighbouring scratches and the picture between them.
BLOTCH_COMPACTNESS = 6.0
#: Reach of the closing that joins the pieces of one blotch, as a share of the frame's shorter
#: side (12 px at 432x240), since blotches scale with the frame: the damage generators draw
#: them up to 0.26 of it across. Measured with ``propagate`` on the real-footage benchmark's
#: blind cases (2026-12-03, 48 frames) and on six film-damage clips outside its frames (24
#: frames; cup, box and vtest): PSNR inside the true mask megamind-blotch 26.78 -> 30.19 dB,
#: cup-blotch 15.40 -> 17.06, vtest-blotch 17.80 -> 18.71, box-blotch 33.53 -> 33.65; the
#: cases without large blotches within 0.07 dB (tree-dust, vtest-scratch, megamind-film,
#: vtest-film). Closing every thick detection instead (no compactness test) costs megamind-film
#: 1.4 dB: its scratches are joined.
BLOTCH_CLOSING_SHARE = 0.05
#: A thick detection whose area is more than this many times the disc of its thickness radius
#: is a line (a wide scratch, found to its edge), not a blotch: the frames beside repair it as a
#: line (:func:`neighbour_lines`) and blending treats it as one (``seedvr.ops.blending``).
#: Measured 2026-12-03 when blotches were widened and lines not (``propagate``): PSNR inside
#: the true mask vtest-scratch 20.38 -> 21.05 dB, megamind-film 24.12 -> 24.51, cup-scratch
#: 22.75 -> 24.09 against widening every thick detection; at 6, as for closing, rims of wider
#: pieces are missed: vtest-scratch 20.68 dB.
LINE_COMPACTNESS = 20.0
#: Pixels around each detection that its confirming repair is also given (:func:`detection_rims`),
#: and the grey levels that repair must change a rim pixel by for it to be repaired (higher than
#: the detection's own tolerance: a rim pixel is picture until it is shown to be far from it).
#: Thin detections (lines, specks) got the rim first (2026-12-03, ``propagate``, first 24 frames of
#: the blind cases, PSNR inside the true mask / whole frame): tree-dust 23.76 -> 24.48 / 30.04 ->
#: 29.64 dB, megamind-film 25.63 -> 25.99 / 35.11 -> 35.31, megamind-blotch 34.53 -> 34.63 /
#: 46.13 -> 45.79, vtest-scratch 20.90 -> 20.97 / 24.90 -> 24.67; 70 and 100 levels lose 0.2 and
#: 0.4 dB on tree-dust. Every detection since 2026-12-05, wide lines and blotches too (the
#: detector of four legs, the same measure, thin rims -> every rim): megamind-film 34.85 -> 37.27 /
#: 45.00 -> 46.91 (the damage missed at the soft edges of blotches: its squared error halved),
#: vtest-scratch 26.02 -> 26.05 / 34.28 -> 33.61, tree-dust 26.30 -> 26.11 / 33.42 -> 32.46,
#: megamind-blotch 37.15 -> 37.16 / 50.41 -> 50.40; four film clips outside the benchmark's
#: frames: box-film +0.36, cup-scratch +0.69, box-dust +0.03, vtest-film -0.36 dB inside the
#: true mask. Where it loses, foliage and people read as blotches: their rims, repaired, widen the
#: false holes. At 30 levels: +0.09 dB more inside the mask on average and more clean pixels
#: repaired (the whole frame -0.2 dB).
DETECTION_RIM = 1
RIM_TOLERANCE = 45


def hysteresis_mask(probabilities: np.ndarray, threshold: float, grow_threshold: float) -> np.ndarray:
    """``bool [T, H, W]``: pixels above ``grow_threshold`` connected (8-neighbourhood, in their
    own frame) to a pixel above ``threshold``."""
    grown = np.zeros(probabilities.shape, dtype=bool)
    for index, frame in enumerate(probabilities):
        count, labels = cv2.connectedComponents((frame > grow_threshold).astype(np.uint8), connectivity=8)
        if count <= 1:
            continue
        seeded = np.zeros(count, dtype=bool)
        seeded[labels[frame > threshold]] = True
        seeded[0] = False  # label 0 is the background under grow_threshold
        grown[index] = seeded[labels]
    return grown


def fill_enclosed_holes(masks: np.ndarray, max_share: float = MAX_FILLED_HOLE_SHARE) -> np.ndarray:
    """``masks`` (``bool [T, H, W]``) with every hole they enclose filled: background regions
    (4-neighbourhood, the complement of 8-connected masks) that touch no edge of the frame and
    cover at most ``max_share`` of it."""
    filled = np.array(masks, dtype=bool, copy=True)
    height, width = filled.shape[1:]
    largest = max_share * height * width
    for frame in filled:
        count, labels, stats, _ = cv2.connectedComponentsWithStats((~frame).astype(np.uint8), connectivity=4)
        left, top, box_width, box_height, area = (stats[:, column] for column in range(5))
        enclosed = (left > 0) & (top > 0) & (left + box_width < width) & (top + box_height < height) & (area <= largest)
        enclosed[0] = False  # label 0 is the mask itself
        frame |= enclosed[labels]
    return filled


def thick_detections(frame: np.ndarray, radius: float = BLOTCH_RADIUS, compactness: float | None = None) -> np.ndarray:
    """``bool [H, W]``: the detections of one frame (8-connected) that hold a pixel ``radius`` or
    more from their edge; with a ``compactness``, only those whose area is at most that many
    times the disc of their largest such distance (blotch-shaped, not lines)."""
    pixels = np.asarray(frame, dtype=np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(pixels, connectivity=8)
    depth = cv2.distanceTransform(pixels, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    deep = depth >= radius
    deepest = np.zeros(count, dtype=np.float64)
    np.maximum.at(deepest, labels[deep], depth[deep])  # only deep pixels: cheap on large frames
    chosen = deepest >= radius
    if compactness is not None:
        chosen &= stats[:, cv2.CC_STAT_AREA] <= compactness * np.pi * deepest**2
    chosen[0] = False  # label 0 is the background
    return chosen[labels]


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def close_blotches(
    masks: np.ndarray,
    radius: float = BLOTCH_RADIUS,
    compactness: float = BLOTCH_COMPACTNESS,
    reach_share: float = BLOTCH_CLOSING_SHARE,
) -> np.ndarray:
    """``masks`` (``bool [T, H, W]``) with their compact thick detections closed together
    (elliptic kernel of ``reach_share`` of the shorter side): the pieces of one blotch joined, so
    :func:`fill_enclosed_holes` finds the inside they bound. Lines and specks are left as found."""
    closed = np.array(masks, dtype=bool, copy=True)
    reach = max(1, round(reach_share * min(closed.shape[1:])))
    for frame in closed:
        blotches = thick_detections(frame, radius, compactness)
        if blotches.any():
            frame |= cv2.morphologyEx(blotches.astype(np.uint8), cv2.MORPH_CLOSE, _disc(reach)) > 0
    return closed


def grown_damage(probabilities: np.ndarray, threshold: float, grow_threshold: float) -> np.ndarray:
    """The detections above ``threshold`` grown to their extent: hysteresis down to
    ``grow_threshold``, the pieces of each blotch joined, and the holes they enclose filled."""
    return fill_enclosed_holes(close_blotches(hysteresis_mask(probabilities, threshold, grow_threshold)))


def detection_rims(masks: np.ndarray, rim: int = DETECTION_RIM) -> np.ndarray:
    """``bool [T, H, W]``: the pixels outside ``masks`` within ``rim`` of a detection, frame by frame."""
    rims = np.zeros(np.shape(masks), dtype=bool)
    if rim <= 0:
        return rims
    for frame, frame_rims in zip(np.asarray(masks, dtype=bool), rims, strict=True):
        if frame.any():
            frame_rims[:] = (cv2.dilate(frame.astype(np.uint8), _disc(rim)) > 0) & ~frame
    return rims


def line_detections(masks: np.ndarray) -> np.ndarray:
    """``bool [T, H, W]``: the detections of ``masks`` that are not blotches (lines, wide
    scratches and specks: :func:`thick_detections` at :data:`LINE_COMPACTNESS`), frame by frame."""
    masks = np.asarray(masks, dtype=bool)
    return np.stack([frame & ~thick_detections(frame, BLOTCH_RADIUS, LINE_COMPACTNESS) for frame in masks])


def neighbour_lines(masks: np.ndarray, before: np.ndarray | None = None, after: np.ndarray | None = None) -> np.ndarray:
    """``bool [T, H, W]``: where the frame just before or just after each frame of ``masks`` has
    a line or a speck (:func:`line_detections`). ``before`` and ``after`` (``bool [H, W]``) are
    the detections of the frames next to the chunk ``masks``; ``None`` at the clip's ends."""
    masks = np.asarray(masks, dtype=bool)
    lines = line_detections(masks)

    def lines_of(frame: np.ndarray | None) -> np.ndarray:
        if frame is None:
            return np.zeros((1, *masks.shape[1:]), dtype=bool)
        return line_detections(np.asarray(frame, dtype=bool)[None])

    previous = np.concatenate([lines_of(before), lines[:-1]])
    following = np.concatenate([lines[1:], lines_of(after)])
    return previous | following


def confirming_region(masks: np.ndarray, before: np.ndarray | None = None, after: np.ndarray | None = None) -> np.ndarray:
    """``bool [T, H, W]``: what the confirming repair of the detections ``masks`` repairs: the
    detections, their rims (:func:`detection_rims`) and the lines and specks detected in the
    frames just before and after (:func:`neighbour_lines`; ``before`` and ``after`` as there).

    The neighbours' lines are repaired too (never confirmed for it) because a scratch persists:
    where its detection has a gap in one frame, the propagated repair of the frames beside fills
    their detected pixels from that gap, the scratch itself, changes them little, and they are
    dropped though damaged. Masked there, the gap is no source. Measured 2026-12-05 (first 24
    frames, ``propagate`` confirming and repairing with the shaped blending, PSNR inside the true
    mask): vtest-scratch +0.26 dB (damaged pixels missed 1,915 -> 1,547), cup-scratch (outside the
    benchmark's frames) +0.27, megamind-film +0.08, tree-dust +0.03, box-film +0.03,
    megamind-blotch 0.00, box-dust -0.01, vtest-film -0.07. Keeping the neighbours' lines as
    candidates too (at the rim's tolerance) gained cup-scratch +0.82 but lost vtest-scratch 0.10
    against this and the whole frame of tree-dust 0.5 dB.
    """
    return masks | detection_rims(masks) | neighbour_lines(masks, before, after)


def confirmed_region(masks: np.ndarray, rims: np.ndarray, frames: np.ndarray, repaired: np.ndarray, tolerance: int) -> np.ndarray:
    """What a blind repair repairs of the detections ``masks`` and their ``rims`` (:func:`detection_rims`),
    given the repair ``repaired`` of ``frames`` inside both: the detected pixels it changed by more
    than ``tolerance`` grey levels, and the rim pixels it changed by more than
    :data:`RIM_TOLERANCE` (or ``tolerance``, when higher)."""
    rim_tolerance = max(tolerance, RIM_TOLERANCE)
    return confirmed_damage(masks, frames, repaired, tolerance) | confirmed_damage(rims, frames, repaired, rim_tolerance)


def confirmed_damage(masks: np.ndarray, frames: np.ndarray, repaired: np.ndarray, tolerance: int) -> np.ndarray:
    """The pixels of ``masks`` (``bool [T, H, W]``) that the repair ``repaired`` of ``frames``
    (both ``uint8 [T, H, W, 3]``) changed by more than ``tolerance`` grey levels in some channel.

    A detected pixel that a repair along the motion leaves nearly as it was agrees with the
    frames around it: it is picture (a false detection), or damage so faint that keeping it
    costs at most ``tolerance``. Left out, it is no longer a hole for the final repair but
    known picture around the damage, and the damage's holes shrink to what they are.
    """
    changed = np.empty(masks.shape, dtype=bool)
    # Frame by frame: a signed copy of a whole window would be the largest buffer.
    for index, (frame, repair) in enumerate(zip(frames, repaired, strict=True)):
        difference = cv2.absdiff(frame, repair).max(axis=-1)
        changed[index] = difference > tolerance
    return changed & np.asarray(masks, dtype=bool)
