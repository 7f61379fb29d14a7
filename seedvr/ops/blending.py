"""Gradient-domain blending of a propagated fill, so lighting changes leave no seam.

A pixel carried into a hole from another frame brings that frame's lighting and its
sub-pixel misalignment with it. FGVC's remedy: propagate into the known pixels around the
hole as well, where the true colour is known, and the difference between the two (the
*offset*) measures what the propagation got wrong there. Carried into the hole as a harmonic
function (Laplace's equation with the ring's offsets as its boundary values: the smoothest
correction that meets them) and added to the fill, it removes the seam and, with it, the
slow part of the error inside.

The ring's propagated colours come from the same propagation as the fill
(:func:`seedvr.ops.propagation.propagation_guess` with a ``border``), so the blending costs
the ring's share of the propagation and one sparse solve per frame (+15 % time for the fused
``propagate`` of 24 frames at 432x240).

Only a part of the correction is added (:data:`BORDER_BLEND`): at a hole's border the
offset is partly the picture's own detail that the propagation blurred, which does not
carry into the hole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu

from seedvr.errors import SeedVRError
from seedvr.ops.damage_regions import BLOTCH_RADIUS, LINE_COMPACTNESS, thick_detections
from seedvr.video_contract import check_video_and_masks

# The share of the harmonic correction added to the fill. Chosen on 16 clips of real video
# outside the real-footage benchmark's frames (24 frames at 432x240, every damage kind; PSNR
# inside the mask of the refined fused guess, mean 30.53 dB): a quarter, half, three quarters
# and all of it give 30.76, 30.97, 31.09 and 31.12 dB. At three quarters no clip loses more
# than 0.04 dB (+2.5 dB on a blotch clip, +2.8 on a dust clip); the whole correction costs a
# blotch clip 0.18 dB. The colour offset at the border spread into the hole by a Gaussian
# instead (no propagation of the ring) loses 0.10-1.45 dB: there the offset is mostly the
# picture's own gradient, not the propagation's error.
BORDER_BLEND = 0.75


@dataclass(frozen=True)
class ShapedBlend:
    """Shares of the correction by the shape of the hole: ``lines`` for lines and specks,
    ``blotches`` for the holes thick enough and compact enough to be blotches
    (:func:`~seedvr.ops.damage_regions.thick_detections` at the radius and compactness that
    tell a blotch from a wide scratch)."""

    lines: float
    blotches: float


#: A share for every hole, or one per hole shape.
Blend = float | ShapedBlend

# What a *detected* mask is repaired with (``seedvr repair --mask auto``, blind batch repair).
# Around a blotch the ring is where the confirmation stopped: pixels the detection grew over
# but a propagated repair changed by less than its tolerance, often the blotch's faint rim.
# Its offsets are then damage, not the propagation's error, and blending them spreads the
# damage's colour into the fill. Around a line or a speck the ring is picture (the rim the
# confirmation offered was left where the repair changed it little), and blending pays as
# with a given mask. Measured 2026-12-05 (`propagate` in the confirmed mask, first 24 frames,
# PSNR inside the true mask; the benchmark's 4 blind cases and 6 film clips of the same videos
# outside its frames): unblended (shipped until then) 28.99 dB on average, every hole at 3/8
# 28.99, at 3/4 28.86 (cup-blotch 27.93 -> 26.28, megamind-blotch -0.08; vtest-scratch +0.28,
# vtest-film +0.24, tree-dust +0.17), lines at 3/4 and blotches unblended 29.04 (vtest-scratch
# 25.77 -> 26.02, tree-dust 25.95 -> 26.11, vtest-film 23.89 -> 24.02, megamind-film +0.03,
# box-film and box-dust -0.04, cup-blotch -0.02), the whole frame up on 8 of the 10. Before
# the confirmation gave every detection a rim, blending every hole cost more (megamind-blotch
# 29.72 dB against 30.70 unblended).
DETECTED_MASK_BLEND = ShapedBlend(lines=BORDER_BLEND, blotches=0.0)


def _shares(blend: Blend) -> tuple[float, ...]:
    return (blend.lines, blend.blotches) if isinstance(blend, ShapedBlend) else (blend,)


def check_blend(blend: Blend) -> None:
    """Every share in [0, 1]; one clear line otherwise."""
    if not all(0.0 <= share <= 1.0 for share in _shares(blend)):
        raise SeedVRError(f"blend must be in [0, 1], got {blend}")


def blends_any_hole(blend: Blend) -> bool:
    """Whether some hole gets a share of the correction (else the ring need not be propagated)."""
    return max(_shares(blend)) > 0.0


def blend_record(blend: Blend) -> float | dict:
    """``blend`` as a report records it (a number, or its shares by name)."""
    return asdict(blend) if isinstance(blend, ShapedBlend) else blend


def hole_shares(blend: Blend, hole: np.ndarray) -> float | np.ndarray:
    """The share of each pixel of ``hole`` (``bool [H, W]``, one frame): the one share, or
    ``float32 [H, W]`` by the shape of the hole each pixel lies in."""
    if not isinstance(blend, ShapedBlend):
        return blend
    blotches = thick_detections(hole, BLOTCH_RADIUS, LINE_COMPACTNESS)
    return np.where(blotches, blend.blotches, blend.lines).astype(np.float32)


_RING = np.ones((3, 3), dtype=np.uint8)
_NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def border_ring(masks: np.ndarray) -> np.ndarray:
    """The known pixels touching a hole (8-neighbourhood), bool ``[T, H, W]``."""
    ring = np.zeros_like(masks, dtype=bool)
    for index in np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1)):
        ring[index] = (cv2.dilate(masks[index].astype(np.uint8), _RING) > 0) & ~masks[index]
    return ring


def harmonic_inside(boundary_values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Solve Laplace's equation in ``hole`` (bool ``[H, W]``) with ``boundary_values``
    (float ``[H, W, C]``, read on the known 4-neighbours of the hole) as Dirichlet values.

    Returns ``float64 [N, C]`` for the hole pixels in ``np.nonzero`` order. The frame's
    edge is a free (Neumann) boundary. Exact, by one sparse LU factorisation, however wide
    the hole (an iterative smoother would need as many sweeps as the hole is wide squared).
    """
    rows, cols = np.nonzero(hole)
    count, (height, width) = len(rows), hole.shape
    channels = boundary_values.shape[-1]
    if count == 0:
        return np.zeros((0, channels))
    if count == hole.size:  # no known pixel at all: nothing to meet, no correction
        return np.zeros((count, channels))
    number = np.full(hole.shape, -1, dtype=np.int64)
    number[rows, cols] = np.arange(count)
    degree = np.zeros(count)
    right_side = np.zeros((count, channels))
    pairs_from, pairs_to = [], []
    for dy, dx in _NEIGHBOURS:
        near_row, near_col = rows + dy, cols + dx
        inside = (near_row >= 0) & (near_row < height) & (near_col >= 0) & (near_col < width)
        pixels = np.flatnonzero(inside)
        neighbour = number[near_row[inside], near_col[inside]]
        degree[pixels] += 1
        in_hole = neighbour >= 0
        pairs_from.append(pixels[in_hole])
        pairs_to.append(neighbour[in_hole])
        known = pixels[~in_hole]
        right_side[known] += boundary_values[near_row[inside][~in_hole], near_col[inside][~in_hole]]
    pairs_from, pairs_to = np.concatenate(pairs_from), np.concatenate(pairs_to)
    laplacian = coo_matrix(
        (
            np.concatenate([degree, -np.ones(len(pairs_from))]),
            (np.concatenate([np.arange(count), pairs_from]), np.concatenate([np.arange(count), pairs_to])),
        ),
        shape=(count, count),
    )
    return splu(laplacian.tocsc()).solve(right_side)


def blended(
    guess: np.ndarray, frames: np.ndarray, masks: np.ndarray, border_fill: np.ndarray, strength: Blend = BORDER_BLEND
) -> np.ndarray:
    """``guess`` (``uint8 [T, H, W, 3]``, the fill of ``masks`` in ``frames``) corrected in the
    gradient domain; exact outside ``masks``.

    ``border_fill`` holds what the same propagation put on the ring of known pixels around
    the holes (:func:`border_ring`; elsewhere it is ignored). ``strength`` is the share of
    the harmonic correction added (0 returns ``guess`` unchanged), or a share per hole shape
    (:class:`ShapedBlend`).
    """
    masks = check_video_and_masks(frames, masks)
    check_blend(strength)
    if guess.shape != frames.shape or border_fill.shape != frames.shape:
        raise SeedVRError(f"guess and border_fill must have the frames' shape {frames.shape}")
    out = guess.copy()
    if not blends_any_hole(strength):
        return out
    for index in np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1)):
        hole = masks[index]
        offset = frames[index].astype(np.float32) - border_fill[index].astype(np.float32)
        correction = harmonic_inside(offset, hole)
        shares = hole_shares(strength, hole)
        if isinstance(shares, np.ndarray):
            shares = shares[hole][:, None]
        filled = guess[index][hole].astype(np.float64) + shares * correction
        out[index][hole] = np.clip(np.rint(filled), 0, 255).astype(np.uint8)
    return out
