"""What every damage kind provides: how it draws, how it is painted, whether frames may be clean."""

from __future__ import annotations

import abc
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class PaintStyle:
    """How a kind's tone canvas is turned into damaged pixels.

    ``opacity``: range the strength of the damage is drawn from per clip (a watermark is
    translucent, dirt is opaque). ``grain``: amplitude in grey levels of the noise texture
    painted over the damage. ``colourful``: a random saturated colour (graffiti strokes,
    foreign objects) instead of the near-neutral, slightly warm cast of film dirt.
    ``edge_blur``: box size (odd, 1 = none) of the soft fall-off inside the mask border.
    ``takes_dye``: the damage may take away some of colour film's dye layers and leave its
    brightness (a scratch through the emulsion), so a repainted style of it keeps the picture's
    luma half the time. ``luma_matched``: this paint does (only its hue shows).
    """

    opacity: tuple[float, float]
    grain: float
    colourful: bool
    edge_blur: int
    takes_dye: bool = False
    luma_matched: bool = False

    def fainter(self, factor: float) -> PaintStyle:
        """The same style with its opacity range scaled by ``factor`` (in (0, 1]): damage that
        only tints the picture, as a speck whose grey is near the picture's or a worn blotch."""
        if not 0.0 < factor <= 1.0:
            raise ValueError(f"an opacity factor must be in (0, 1], got {factor}")
        low, high = self.opacity
        return replace(self, opacity=(low * factor, high * factor))

    def repainted(self, rng: np.random.Generator) -> PaintStyle:
        """The same damage painted another way, for a detector that must not learn one look:
        in colour of any hue (lines and specks of any colour), with grain from none (a third
        of the draws: flat paint) to the kind's own, with its soft edge or a hard one, and for a
        kind that ``takes_dye``, half the time with the picture's luma."""
        grain = self.grain * max(0.0, float(rng.uniform(-0.5, 1.0)))
        edge_blur = self.edge_blur if rng.random() < 0.5 else 1
        # Drawn for every kind, so the draws that follow do not depend on which kinds take dye.
        luma_matched = bool(rng.random() < 0.5) and self.takes_dye
        return replace(self, colourful=True, grain=grain, edge_blur=edge_blur, luma_matched=luma_matched)


class DamageKind(abc.ABC):
    """One kind of damage. Stateless: all randomness comes from the generator passed in."""

    name: ClassVar[str]
    style: ClassVar[PaintStyle]
    #: True when some frames of a clip may legitimately carry no damage at all.
    allows_empty_frames: ClassVar[bool] = False

    @abc.abstractmethod
    def draw(self, canvas: np.ndarray, rng: np.random.Generator, coverage: float) -> int:
        """Draw new elements into ``canvas`` (``uint8 [T, H, W]`` tones, 0 = clean).

        ``coverage`` is the fraction of all the clip's pixels the new elements should
        cover, roughly: the caller measures the result and asks again for more or less,
        so a kind only needs to size its elements sensibly. Returns how many elements
        were drawn. Every frame that must not be empty gets at least one pixel.
        """
