"""Small test videos for the metrics: 8 frames of 64x64, textured so flow and SSIM have signal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seedvr.losses.vgg import VGG16Features

FRAMES, SIZE = 8, 64


def _texture(height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    base = 127 + 60 * np.sin(xs / 5.0) * np.cos(ys / 7.0) + 30 * np.sin((xs + ys) / 11.0)
    rgb = np.stack((base, np.roll(base, 5, axis=1), 255 - base), axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def moving_video() -> np.ndarray:
    """The texture panning 2 px right per frame: ``uint8 [8, 64, 64, 3]``, values in [38, 216]."""
    canvas = _texture(SIZE, SIZE + 2 * FRAMES)
    return np.stack([canvas[:, 2 * t : 2 * t + SIZE] for t in range(FRAMES)])


@pytest.fixture(scope="session")
def static_video(moving_video) -> np.ndarray:
    """The first frame repeated: a scene without motion."""
    return np.repeat(moving_video[:1], FRAMES, axis=0)


@pytest.fixture(scope="session")
def hole() -> np.ndarray:
    """A 20x24 hole in every frame: ``bool [8, 64, 64]``."""
    mask = np.zeros((FRAMES, SIZE, SIZE), dtype=bool)
    mask[:, 20:40, 20:44] = True
    return mask


def add_offsets(video: np.ndarray, offsets) -> np.ndarray:
    """Add a per-frame grey-level offset (the videos leave room for +-38 without clipping)."""
    shifted = video.astype(np.int16) + np.asarray(offsets, dtype=np.int16)[:, None, None, None]
    if shifted.min() < 0 or shifted.max() > 255:
        raise ValueError("offsets would clip the video")
    return shifted.astype(np.uint8)


@pytest.fixture(scope="session")
def offsets():
    return add_offsets


@pytest.fixture(scope="session")
def random_vgg16_file(tmp_path_factory) -> str:
    """A randomly initialised VGG16 trunk saved with torchvision's keys (``features.N.*``)."""
    torch.manual_seed(0)
    trunk = VGG16Features(layers=("relu5_3",))
    path = tmp_path_factory.mktemp("vgg") / "vgg16-random.pth"
    torch.save({f"features.{key}": value for key, value in trunk.features.state_dict().items()}, path)
    return str(path)
