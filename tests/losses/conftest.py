"""Tiny clips for the loss tests: 1 clip of 4 frames at 32x32, textured so every term has signal."""

from __future__ import annotations

import pytest
import torch

from seedvr.losses.vgg import VGG16Features

FRAMES, SIZE = 4, 32


def textured_clip(frames: int = FRAMES, size: int = SIZE, shift_per_frame: int = 0) -> torch.Tensor:
    """``[1, T, 3, H, W]`` in [0, 1]: smooth colour patterns; with a shift the view pans right
    (content moves ``shift_per_frame`` pixels left per frame)."""
    ys, xs = torch.meshgrid(torch.arange(size).float(), torch.arange(size + frames * abs(shift_per_frame)).float(), indexing="ij")
    red = 0.5 + 0.3 * torch.sin(xs / 3.0) * torch.cos(ys / 4.0)
    green = 0.5 + 0.3 * torch.sin((xs + ys) / 5.0)
    blue = 0.5 + 0.2 * torch.cos(xs / 2.0 - ys / 6.0)
    canvas = torch.stack((red, green, blue))
    clip = [canvas[:, :, t * shift_per_frame : t * shift_per_frame + size] for t in range(frames)]
    return torch.stack(clip).unsqueeze(0).contiguous()


@pytest.fixture()
def make_clip():
    """The :func:`textured_clip` factory, for tests that need a moving clip."""
    return textured_clip


@pytest.fixture()
def clip() -> torch.Tensor:
    return textured_clip()


@pytest.fixture()
def hole_mask() -> torch.Tensor:
    """A square hole in the middle of every frame: ``[1, T, 1, H, W]``."""
    mask = torch.zeros(1, FRAMES, 1, SIZE, SIZE)
    mask[..., 10:22, 10:22] = 1.0
    return mask


@pytest.fixture(scope="session")
def random_vgg16_file(tmp_path_factory) -> str:
    """A randomly initialised VGG16 state dict in torchvision's key format (``features.N.*``).

    All 13 convolutions are saved, like a real torchvision file (minus the classifier, which
    the loader ignores anyway), so the test also covers skipping keys beyond relu3_3.
    """
    torch.manual_seed(0)
    full_trunk = VGG16Features(layers=("relu5_3",))
    state = {f"features.{key}": value for key, value in full_trunk.features.state_dict().items()}
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pth"
    torch.save(state, path)
    return str(path)
