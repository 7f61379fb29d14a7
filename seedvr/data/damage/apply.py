"""Synthetic damage on a clip: masks grown to a requested mask ratio, then painted in.

The mask ratio is the mean fraction of damaged pixels over the clip. A target is drawn
inside the requested bounds, then each kind adds elements until the union of the masks
reaches its share of the target. A draw that overshoots the upper bound is thrown away and
asked again at half the size, so the final ratio always lands inside the bounds, and since
every choice comes from the caller's generator, the same generator state gives the same
damage.

Limits, measured by the tests: every kind, alone or combined, reaches any range inside
``(0, MAX_MASK_RATIO]`` (0.5) - dust by packing specks densely, scratches by adding more
thin scratches, logos by growing the box. A range narrower than about one pixel per frame
on a tiny clip can be impossible for kinds that mark every frame; that, like a bound below
one pixel per frame, is a :class:`SeedVRError` asking for wider bounds, never a silent
miss. Only ``blotch`` may leave frames without damage (see
:data:`KINDS_ALLOWING_EMPTY_FRAMES`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage.base import DamageKind, PaintStyle
from seedvr.data.damage.blotch import BlotchDamage
from seedvr.data.damage.dust import DustDamage
from seedvr.data.damage.logo import LogoDamage
from seedvr.data.damage.objects import ObjectDamage
from seedvr.data.damage.paint import paint_damage
from seedvr.data.damage.scratch import ScratchDamage
from seedvr.data.damage.stroke import StrokeDamage
from seedvr.errors import SeedVRError
from seedvr.video_contract import check_video

KIND_REGISTRY: dict[str, DamageKind] = {
    kind.name: kind for kind in (ScratchDamage(), BlotchDamage(), DustDamage(), StrokeDamage(), ObjectDamage(), LogoDamage())
}
assert tuple(KIND_REGISTRY) == DAMAGE_KINDS, "every kind named in seedvr.config needs a drawer"

#: Kinds whose masks may leave whole frames clean (a blotch lasts one or two frames).
#: A clip damaged with several kinds has no empty frame unless all of its kinds allow it.
KINDS_ALLOWING_EMPTY_FRAMES: frozenset[str] = frozenset(name for name, kind in KIND_REGISTRY.items() if kind.allows_empty_frames)

#: Largest mask ratio any kind is asked to reach: beyond half the picture, repair turns
#: into generation, and every kind can still honestly reach this much.
MAX_MASK_RATIO = 0.5

# Each draw is sized from what is still missing, so a handful of draws normally suffice;
# the cap only matters for impossible requests (a 1-pixel window on a tiny clip).
_MAX_DRAWS_PER_KIND = 64


@dataclass(frozen=True)
class DamageInfo:
    """What was done to a clip: JSON-friendly, for manifests and logs."""

    kinds: tuple[str, ...]
    target_ratio: float
    mask_ratio: float
    kind_ratios: dict[str, float] = field(default_factory=dict)
    elements: dict[str, int] = field(default_factory=dict)


class DamageResult(NamedTuple):
    """``damaged`` uint8 [T, H, W, 3], ``mask`` bool [T, H, W] (True = damaged), ``info``."""

    damaged: np.ndarray
    mask: np.ndarray
    info: DamageInfo


def check_kinds(kinds: Sequence[str] | str) -> tuple[str, ...]:
    """Known, non-empty, duplicates dropped (order kept); a comma-separated string is split."""
    if isinstance(kinds, str):
        kinds = [part.strip() for part in kinds.split(",") if part.strip()]
    unique = tuple(dict.fromkeys(kinds))
    unknown = [kind for kind in unique if kind not in KIND_REGISTRY]
    if unknown:
        raise SeedVRError(f"unknown damage kind(s) {', '.join(map(str, unknown))}; choose from {', '.join(DAMAGE_KINDS)}")
    if not unique:
        raise SeedVRError(f"no damage kind given; choose from {', '.join(DAMAGE_KINDS)}")
    return unique


def check_mask_ratio(bounds: Sequence[float]) -> tuple[float, float]:
    """``(low, high)`` with ``0 < low <= high < 1`` and ``low <= MAX_MASK_RATIO``."""
    try:
        low, high = (float(value) for value in bounds)
    except (TypeError, ValueError):
        raise SeedVRError(f"mask ratio must be two numbers low:high, got {bounds!r}") from None
    if not (0.0 < low <= high < 1.0):
        raise SeedVRError(f"mask ratio must satisfy 0 < low <= high < 1, got {low:g}:{high:g}")
    if low > MAX_MASK_RATIO:
        raise SeedVRError(f"mask ratio low bound {low:g} is above the supported maximum {MAX_MASK_RATIO:g}")
    return low, high


@dataclass(frozen=True)
class DrawnDamage:
    """Masks before painting: each kind's tone canvas (``uint8 [T, H, W]``, 0 = clean), their
    union ``mask``, the target ratio that was drawn and the number of elements per kind."""

    layers: list[tuple[str, np.ndarray]]
    mask: np.ndarray
    target_ratio: float
    elements: dict[str, int]

    def styled_layers(self) -> list[tuple[str, PaintStyle, np.ndarray]]:
        """``(kind, its paint style, tone canvas)`` per layer, as painting them needs."""
        return [(name, KIND_REGISTRY[name].style, canvas) for name, canvas in self.layers]


def draw_damage_masks(
    shape: tuple[int, int, int],
    kinds: Sequence[str],
    rng: np.random.Generator,
    mask_ratio: tuple[float, float] = (0.01, 0.25),
) -> DrawnDamage:
    """Tone canvases of each kind, sized so their union lands inside ``mask_ratio``.

    Kinds are grown in order, kind ``i`` of ``n`` until the union covers ``(i + 1) / n`` of
    the target, never above ``(i + 1) / n`` of the upper bound, so every kind gets a share
    and the total stays inside the bounds.
    """
    kinds = check_kinds(kinds)
    low, high = check_mask_ratio(mask_ratio)
    frames, height, width = shape
    total = frames * height * width
    # Persistent kinds need one pixel per frame at the very least.
    floor = 1.0 / total if all(KIND_REGISTRY[k].allows_empty_frames for k in kinds) else 1.0 / (height * width)
    if high < floor * len(kinds):
        raise SeedVRError(f"mask ratio upper bound {high:g} is below one damaged pixel per frame on a {height}x{width} clip")
    # The top tenth of the range is kept as slack, so the last draws have room to land.
    target = low + (high - low) * float(rng.uniform(0.0, 0.9))
    union = np.zeros(shape, dtype=bool)
    covered = 0
    layers: list[tuple[str, np.ndarray]] = []
    elements: dict[str, int] = {}
    for position, name in enumerate(kinds):
        share = (position + 1) / len(kinds)
        canvas, count, covered = _grow_kind(KIND_REGISTRY[name], union, covered, rng, goal=target * share, cap=high * share)
        np.logical_or(union, canvas, out=union)
        layers.append((name, canvas))
        elements[name] = count
    return DrawnDamage(layers, union, target, elements)


def _grow_kind(
    kind: DamageKind, union: np.ndarray, covered: int, rng: np.random.Generator, goal: float, cap: float
) -> tuple[np.ndarray, int, int]:
    """Add elements of ``kind`` until ``union | kind`` covers ``goal`` without passing ``cap``.

    ``covered`` is the number of pixels in ``union``. Returns the kind's canvas, its
    element count and the pixels covered by ``union | canvas``.
    """
    total = union.size
    free = ~union if covered else None  # None: nothing damaged yet, every pixel counts
    ratio = covered / total
    canvas = np.zeros(union.shape, dtype=np.uint8)
    count = 0
    # Draws land within about 10 % of what they are asked for: aim a little above the goal
    # (at most half-way to the cap) so most first draws are accepted; ask for what is
    # missing, inflated by the overlap expected with the damage already there.
    aim = goal + min((cap - goal) / 2.0, 0.15 * goal)
    request = max(aim - ratio, 1.0 / total) / max(1.0 - ratio, 1e-6)
    for _ in range(_MAX_DRAWS_PER_KIND):
        trial = canvas.copy()
        drawn = kind.draw(trial, rng, request)
        gained = np.count_nonzero(trial) if free is None else np.count_nonzero(np.logical_and(trial, free))
        new_ratio = (covered + int(gained)) / total
        if new_ratio > cap:
            # Overshoot: throw the draw away and ask for less, scaled by how far this draw
            # overshot what was missing (at least halving, so it always converges).
            overshoot = (aim - ratio) / max(new_ratio - ratio, 1e-12)
            request *= min(max(0.9 * overshoot, 0.05), 0.5)
            continue
        stuck = new_ratio <= ratio  # the new elements fell entirely on old damage
        canvas, ratio, count = trial, new_ratio, count + drawn
        if ratio >= goal and count > 0:
            return canvas, count, covered + int(gained)
        missing = max(aim - ratio, 1.0 / total) / max(1.0 - ratio, 1e-6)
        request = max(missing, 2.0 * request) if stuck else missing
    shape = "x".join(map(str, union.shape))
    raise SeedVRError(
        f"could not place {kind.name} damage covering {goal:.4g} (at most {cap:.4g}) of a {shape} clip; "
        "widen the mask ratio bounds"
    )


def apply_damage(
    frames: np.ndarray,
    kinds: Sequence[str],
    rng: np.random.Generator,
    mask_ratio: tuple[float, float] = (0.01, 0.25),
    opacity: float = 1.0,
    repaint: Collection[str] = (),
) -> DamageResult:
    """Damage a clip: returns ``(damaged, mask, info)``.

    ``frames``: ``uint8 [T, H, W, 3]``. ``kinds``: names from :data:`DAMAGE_KINDS`, painted
    in order (later kinds over earlier ones). The mean fraction of damaged pixels lands in
    ``mask_ratio``; ``damaged == frames`` exactly wherever ``mask`` is False. ``opacity``
    scales every kind's opacity range (:meth:`~seedvr.data.damage.base.PaintStyle.fainter`);
    ``repaint`` names the kinds painted in a style drawn afresh
    (:meth:`~seedvr.data.damage.base.PaintStyle.repainted`).
    """
    frames = np.asarray(frames)
    check_video(frames)
    drawn = draw_damage_masks(frames.shape[:3], kinds, rng, mask_ratio)
    damaged = np.array(frames, dtype=np.uint8, order="C", copy=True)
    total = drawn.mask.size
    kind_ratios: dict[str, float] = {}
    for name, canvas in drawn.layers:
        style = KIND_REGISTRY[name].style.fainter(opacity)
        paint_damage(damaged, canvas, rng, style.repainted(rng) if name in repaint else style)
        kind_ratios[name] = np.count_nonzero(canvas) / total
    info = DamageInfo(
        kinds=tuple(name for name, _ in drawn.layers),
        target_ratio=drawn.target_ratio,
        mask_ratio=np.count_nonzero(drawn.mask) / total,
        kind_ratios=kind_ratios,
        elements=drawn.elements,
    )
    mask = drawn.mask
    return DamageResult(damaged, mask, info)
