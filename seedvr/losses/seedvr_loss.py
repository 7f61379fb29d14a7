"""The SeedVR multi-term repair loss (DESIGN section 4).

``total = w_content * content + w_perceptual * perceptual + w_style * style
        + w_temporal * temporal + w_edge * edge + w_adversarial * adversarial``

* content: L1 inside the mask, normalised by the mask area.
* perceptual / style: VGG16 (relu1_2, relu2_2, relu3_3) features and their Gram matrices when
  ImageNet VGG16 weights are found locally, else the weight-free structural backend
  (see :mod:`seedvr.losses.perceptual`); ``perceptual_backend`` says which. Both are
  averaged over the region around the hole, like content, temporal and edge, so every
  term keeps its meaning whatever the hole size.
* temporal: flicker and shimmer of the fill, motion-compensated with the target's flow when
  given (see :mod:`seedvr.losses.temporal`).
* edge: gradient mismatch in a band around the mask border (seams).
* adversarial: generator loss from an optional discriminator; weight 0 by default.

Every term except content is computed on the composite
``pred * mask + target * (1 - mask)``: that is what the pipeline outputs (pixels outside the
mask are copied from the input), so judging invented pixels that get thrown away would only
spend model capacity. Inside the mask the composite is ``pred``, so gradients reach it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from seedvr.config import LossParams
from seedvr.errors import SeedVRError
from seedvr.losses.adversarial import AdversarialMode, check_adversarial_mode, generator_adversarial_loss
from seedvr.losses.mask_terms import border_edge_smoothness, content_l1
from seedvr.losses.perceptual import build_perceptual_backend
from seedvr.losses.temporal import temporal_consistency

LOSS_TERMS: tuple[str, ...] = ("content", "perceptual", "style", "temporal", "edge", "adversarial")

# The default weights are params.yaml's schema defaults, so a loss built without arguments is
# the one the pipeline trains with.
_DEFAULTS = LossParams()


def composite(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Prediction inside the mask, target outside: the frames the pipeline would output."""
    return pred * mask + target * (1.0 - mask)


class SeedVRLoss(nn.Module):
    """Weighted sum of the SeedVR repair terms; ``forward`` returns every term and the total."""

    def __init__(
        self,
        content: float = _DEFAULTS.content,
        perceptual: float = _DEFAULTS.perceptual,
        style: float = _DEFAULTS.style,
        temporal: float = _DEFAULTS.temporal,
        edge: float = _DEFAULTS.edge,
        adversarial: float = _DEFAULTS.adversarial,
        adversarial_mode: AdversarialMode = _DEFAULTS.adversarial_mode,
        edge_band: int = _DEFAULTS.edge_band,
        vgg16_weights: str | Path | None = _DEFAULTS.vgg16_weights,
    ) -> None:
        super().__init__()
        self.weights: dict[str, float] = {
            "content": float(content),
            "perceptual": float(perceptual),
            "style": float(style),
            "temporal": float(temporal),
            "edge": float(edge),
            "adversarial": float(adversarial),
        }
        negative = [name for name, weight in self.weights.items() if weight < 0]
        if negative:
            raise ValueError(f"loss weights must be >= 0, got negative {negative}")
        check_adversarial_mode(adversarial_mode)
        if edge_band < 1:
            raise ValueError(f"edge_band must be >= 1 pixel, got {edge_band}")
        self.adversarial_mode = adversarial_mode
        self.edge_band = int(edge_band)
        self.perceptual_model = build_perceptual_backend(vgg16_weights)

    @classmethod
    def from_params(cls, params) -> SeedVRLoss:
        """Build from :class:`seedvr.config.LossParams` (``params.loss``)."""
        return cls(
            content=params.content,
            perceptual=params.perceptual,
            style=params.style,
            temporal=params.temporal,
            edge=params.edge,
            adversarial=params.adversarial,
            adversarial_mode=params.adversarial_mode,
            edge_band=params.edge_band,
            vgg16_weights=params.vgg16_weights,
        )

    @property
    def perceptual_backend(self) -> str:
        """``"vgg16"`` or ``"structural"``: which features the perceptual and style terms use."""
        return self.perceptual_model.name

    @staticmethod
    def _check_shapes(pred, target, mask, target_flow) -> None:
        if pred.ndim != 5 or pred.shape[2] != 3:
            raise SeedVRError(f"pred must be [B, T, 3, H, W], got {tuple(pred.shape)}")
        if target.shape != pred.shape:
            raise SeedVRError(f"target shape {tuple(target.shape)} differs from pred shape {tuple(pred.shape)}")
        b, t, _, h, w = pred.shape
        if tuple(mask.shape) != (b, t, 1, h, w):
            raise SeedVRError(f"mask must be {(b, t, 1, h, w)}, got {tuple(mask.shape)}")
        if target_flow is not None and tuple(target_flow.shape) != (b, t - 1, 2, h, w):
            raise SeedVRError(f"target_flow must be {(b, t - 1, 2, h, w)}, got {tuple(target_flow.shape)}")

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        target_flow: torch.Tensor | None = None,
        discriminator: nn.Module | None = None,
    ) -> dict[str, torch.Tensor]:
        """Compute every term.

        ``pred``, ``target``: ``[B, T, 3, H, W]`` in ``[0, 1]``; ``mask``: ``[B, T, 1, H, W]``
        in {0, 1}, 1 = hole. ``target_flow``: ``[B, T-1, 2, H, W]`` pixels, the target's
        backward flow t+1 -> t, i.e. ``estimate_video_flows(target)[1]`` permuted to
        channels-first: ``target[t+1](p) ≈ target[t](p + flow[t](p))``, so
        ``backward_warp(target[:, t], flow[:, t]) ≈ target[:, t+1]``. Without it the temporal
        term compares raw frame differences.
        ``discriminator``: used only when the adversarial weight is > 0; it receives the
        composite clip ``[B, T, 3, H, W]``.

        Returns scalar tensors under ``total`` and each name in :data:`LOSS_TERMS`.
        """
        self._check_shapes(pred, target, mask, target_flow)
        # Float32 arithmetic for the terms: Gram matrices and SSIM variances lose too much in bf16.
        pred = pred.float()
        target = target.float()
        mask = mask.float()
        clip = composite(pred, target, mask)
        frames_pred = pred.flatten(0, 1)
        frames_target = target.flatten(0, 1)
        frames_mask = mask.flatten(0, 1)
        frames_clip = clip.flatten(0, 1)

        terms: dict[str, torch.Tensor] = {"content": content_l1(frames_pred, frames_target, frames_mask)}
        terms["perceptual"], terms["style"] = self.perceptual_model(frames_clip, frames_target, frames_mask)
        terms["temporal"] = temporal_consistency(clip, target, mask, target_flow)
        terms["edge"] = border_edge_smoothness(frames_clip, frames_target, frames_mask, self.edge_band)
        if self.weights["adversarial"] > 0 and discriminator is not None:
            terms["adversarial"] = generator_adversarial_loss(discriminator, clip, self.adversarial_mode)
        else:
            terms["adversarial"] = pred.new_zeros(())

        total = sum(self.weights[name] * terms[name] for name in LOSS_TERMS)
        return {"total": total, **terms}
