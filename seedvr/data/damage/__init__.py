"""Synthetic damage: film scratches, blotches, dust, brush strokes, moving objects, logos.

One module per kind (each draws its elements as a tone canvas), :mod:`.paint` turns tones
into damaged pixels, :mod:`.apply` sizes the damage to a mask ratio and puts it together.
"""

from seedvr.config import DAMAGE_KINDS
from seedvr.data.damage.apply import (
    KIND_REGISTRY,
    KINDS_ALLOWING_EMPTY_FRAMES,
    MAX_MASK_RATIO,
    DamageInfo,
    DamageResult,
    DrawnDamage,
    apply_damage,
    check_kinds,
    check_mask_ratio,
    draw_damage_masks,
)
from seedvr.data.damage.base import DamageKind, PaintStyle

__all__ = [
    "DAMAGE_KINDS",
    "KIND_REGISTRY",
    "KINDS_ALLOWING_EMPTY_FRAMES",
    "MAX_MASK_RATIO",
    "DamageInfo",
    "DamageKind",
    "DamageResult",
    "DrawnDamage",
    "PaintStyle",
    "apply_damage",
    "check_kinds",
    "check_mask_ratio",
    "draw_damage_masks",
]
