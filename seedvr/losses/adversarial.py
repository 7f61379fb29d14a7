"""Adversarial losses for an optional video discriminator (off by default).

A discriminator is any ``nn.Module`` that takes a clip ``[B, T, 3, H, W]`` in ``[0, 1]`` and
returns realness logits of any shape (one per clip, per frame or per patch); the losses
average over them. Two formulations:

* ``hinge`` (SAGAN / BigGAN): D minimises ``relu(1 - D(real)) + relu(1 + D(fake))``,
  G minimises ``-D(fake)``.
* ``non_saturating`` (Goodfellow et al.): D minimises ``softplus(-D(real)) + softplus(D(fake))``,
  G minimises ``softplus(-D(fake))``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

AdversarialMode = Literal["hinge", "non_saturating"]
ADVERSARIAL_MODES: tuple[str, ...] = ("hinge", "non_saturating")


def check_adversarial_mode(mode: str) -> None:
    if mode not in ADVERSARIAL_MODES:
        raise ValueError(f"unknown adversarial mode {mode!r}; choose from {list(ADVERSARIAL_MODES)}")


def generator_adversarial_loss(discriminator: nn.Module, fake: torch.Tensor, mode: AdversarialMode = "hinge") -> torch.Tensor:
    """Generator side: lower when the discriminator takes ``fake`` for real. Gradients reach ``fake``."""
    check_adversarial_mode(mode)
    logits = discriminator(fake)
    if mode == "hinge":
        return -logits.mean()
    return F.softplus(-logits).mean()


def discriminator_loss(
    discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, mode: AdversarialMode = "hinge"
) -> torch.Tensor:
    """Discriminator side. ``fake`` is detached: this step must not update the generator."""
    check_adversarial_mode(mode)
    real_logits = discriminator(real)
    fake_logits = discriminator(fake.detach())
    if mode == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
