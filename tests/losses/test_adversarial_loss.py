"""Hinge and non-saturating adversarial losses: known values for a constant discriminator."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seedvr.losses import discriminator_loss, generator_adversarial_loss


class ConstantDiscriminator(nn.Module):
    """Returns the same logit for every clip (plus 0 * input so gradients are defined)."""

    def __init__(self, real_logit: float, fake_logit: float) -> None:
        super().__init__()
        self.real_logit, self.fake_logit = real_logit, fake_logit

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        # Real clips are all ones in these tests, fake clips all zeros.
        is_real = clip.mean() > 0.5
        return torch.full((clip.shape[0], 1), self.real_logit if is_real else self.fake_logit) + 0 * clip.mean()


def test_hinge_known_values():
    real, fake = torch.ones(2, 3, 3, 8, 8), torch.zeros(2, 3, 3, 8, 8)
    discriminator = ConstantDiscriminator(real_logit=0.5, fake_logit=-0.25)
    # relu(1 - 0.5) + relu(1 + (-0.25)) = 0.5 + 0.75
    assert float(discriminator_loss(discriminator, real, fake, "hinge")) == pytest.approx(1.25)
    assert float(generator_adversarial_loss(discriminator, fake, "hinge")) == pytest.approx(0.25)


def test_non_saturating_known_values():
    real, fake = torch.ones(1, 2, 3, 8, 8), torch.zeros(1, 2, 3, 8, 8)
    discriminator = ConstantDiscriminator(real_logit=2.0, fake_logit=-1.0)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    expected = softplus(-2.0) + softplus(-1.0)
    assert float(discriminator_loss(discriminator, real, fake, "non_saturating")) == pytest.approx(expected)
    assert float(generator_adversarial_loss(discriminator, fake, "non_saturating")) == pytest.approx(softplus(1.0))


def test_discriminator_step_does_not_reach_the_generator():
    fake = torch.rand(1, 2, 3, 8, 8, requires_grad=True)
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 8 * 8, 1))
    discriminator_loss(discriminator, torch.rand(1, 2, 3, 8, 8), fake).backward()
    assert fake.grad is None
    assert discriminator[1].weight.grad is not None


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown adversarial mode"):
        generator_adversarial_loss(nn.Identity(), torch.zeros(1), "wasserstein")
